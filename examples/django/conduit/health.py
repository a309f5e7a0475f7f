"""``/healthz`` for the load balancer, answered before Django checks the Host header."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class HealthCheckMiddleware:
    """Answers ``GET /healthz`` with 200: the process serves requests. It does not touch the
    database, so a database hiccup does not make ECS replace every task at once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return HttpResponse("ok", content_type="text/plain")
        return self.get_response(request)
