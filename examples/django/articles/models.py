from django.db import models


class Article(models.Model):
    """An article of the RealWorld ("Conduit") API, reduced to what the example needs."""

    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def as_json(self) -> dict[str, str]:
        return {"slug": self.slug, "title": self.title, "body": self.body,
                "createdAt": self.created_at.isoformat()}
