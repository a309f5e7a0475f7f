from django.http import Http404, HttpRequest, JsonResponse

from articles.models import Article


def articles(request: HttpRequest) -> JsonResponse:
    found = [a.as_json() for a in Article.objects.all()[:20]]
    return JsonResponse({"articles": found, "articlesCount": len(found)})


def article(request: HttpRequest, slug: str) -> JsonResponse:
    try:
        return JsonResponse({"article": Article.objects.get(slug=slug).as_json()})
    except Article.DoesNotExist:
        raise Http404(slug) from None
