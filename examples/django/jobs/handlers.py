"""What each kind of job does: a function of the job's payload, returning its result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from articles.models import Article


def word_count(slug: str) -> dict[str, Any]:
    """How many words an article's body has."""
    article = Article.objects.get(slug=slug)
    return {"slug": slug, "words": len(article.body.split())}


HANDLERS: dict[str, Callable[..., dict[str, Any]]] = {"articles.word_count": word_count}
