"""Reads of the learner API: complete digests only (the others have nothing
to read yet)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from langlearn.errors import NotFound

from .models import Digest, DigestItem, DigestSentence


def digest_list(*, language: str | None = None, level: str | None = None) -> QuerySet[Digest]:
    """Complete digests, newest first; of one language and level if given."""
    digests = Digest.objects.filter(status=Digest.Status.COMPLETE)
    if language is not None:
        digests = digests.filter(target_language=language)
    if level is not None:
        digests = digests.filter(level=level)
    return digests.only("id", "date", "target_language", "level", "title").order_by(
        "-date", "target_language", "level", "-id"
    )


BIGINT_MAX = 2**63 - 1


def digest_get(*, digest_id: int) -> Digest:
    if not 0 < digest_id <= BIGINT_MAX:  # the path takes any digits
        raise NotFound("Digest not found.")
    try:
        return (
            Digest.objects.filter(status=Digest.Status.COMPLETE)
            .select_related("audio")
            .prefetch_related(
                Prefetch(
                    "sentences",
                    queryset=DigestSentence.objects.order_by("index").prefetch_related(
                        "translations"
                    ),
                ),
                "tokens",
                Prefetch(
                    "citations",
                    queryset=DigestItem.objects.select_related("item__source").order_by("index"),
                ),
            )
            .get(id=digest_id)
        )
    except Digest.DoesNotExist:
        raise NotFound("Digest not found.") from None
