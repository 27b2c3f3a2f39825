"""News sources staff keep in the admin, and the items fetched from them.

An item's identity is its feed's guid (or, without one, its link), hashed into
``key``; ``(source, key)`` is unique in the database, so the same item seen in
any number of fetches, or twice in one feed, is stored once
(``services.source_fetch`` inserts with ``ON CONFLICT``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from langlearn import languages
from langlearn.levels import CefrLevel


def validate_language(code: str) -> None:
    """A language we teach or translate into (``langlearn/languages.py``)."""
    if not (languages.can_teach(code) or languages.can_translate_to(code)):
        known = ", ".join(code for code, _ in language_choices())
        raise ValidationError(
            f"{code!r} is not a language we teach or translate into. Choose one of: {known}.",
            code="invalid_language",
        )


def language_choices() -> list[tuple[str, str]]:
    return sorted(
        (language.code, language.name)
        for language in languages.REGISTRY.values()
        if language.teachable or language.translate_into
    )


class NewsSource(models.Model):
    class FetchStatus(models.TextChoices):
        NEVER = "never", "never fetched"
        OK = "ok"
        ERROR = "error"

    name = models.CharField(max_length=200, blank=True, help_text="For staff; optional.")
    url = models.CharField(
        "feed URL",
        max_length=2000,
        unique=True,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="An RSS or Atom feed, http or https.",
    )
    language = models.CharField(
        max_length=8, validators=[validate_language], help_text="The language the feed is in."
    )
    enabled = models.BooleanField(default=True, help_text="Fetched by fetch_news and the digest.")
    last_fetch_status = models.CharField(
        max_length=8, choices=FetchStatus, default=FetchStatus.NEVER
    )
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_fetch_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["language", "name", "id"]

    def __str__(self) -> str:
        return self.name or self.url


class NewsItem(models.Model):
    source = models.ForeignKey(NewsSource, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=64, help_text="sha256 of the guid: the item's identity.")
    guid = models.TextField(help_text="The feed's id for the item (its link when it has none).")
    headline = models.CharField(max_length=500)
    summary = models.TextField(blank=True, help_text="Plain text, tags stripped.")
    link = models.CharField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "key"], name="news_item_unique_per_source")
        ]
        indexes = [models.Index(fields=["published_at"])]

    def __str__(self) -> str:
        return self.headline


def validate_target_language(code: str) -> None:
    """A language we teach: a digest is a reading for its learners."""
    problem = languages.target_language_problem(code)
    if problem:
        raise ValidationError(problem, code="invalid_language")


class Digest(models.Model):
    """One short graded reading per (date, target language, CEFR level).

    The unique constraint is what keeps a day to one digest per language and
    level, however often the nightly task runs or however many workers race:
    ``services.digests_ensure`` inserts with ``ON CONFLICT DO NOTHING``.

    ``news.pipeline`` writes it like an entry: the reading (``generated_at``,
    with the items it cites), its translations into the native languages of
    the target language's learners (``translated_at``), its tokens
    (``annotated_at``) and audio (``voiced_at``); a retried job skips the steps
    already recorded, so the LLM is paid once per digest.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        GENERATING = "generating"
        COMPLETE = "complete"
        ERROR = "error"

    date = models.DateField()
    target_language = models.CharField(max_length=8, validators=[validate_target_language])
    level = models.CharField(max_length=2, choices=CefrLevel)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    error_detail = models.TextField(blank=True, help_text="For staff: what failed, and where.")
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    items = models.ManyToManyField(
        NewsItem, through="DigestItem", related_name="digests", help_text="The items it cites."
    )
    # Which pipeline steps have finished.
    generated_at = models.DateTimeField(null=True, blank=True)
    translated_at = models.DateTimeField(null=True, blank=True)
    annotated_at = models.DateTimeField(null=True, blank=True)
    voiced_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What the providers billed for it.
    llm_input_tokens = models.PositiveIntegerField(default=0)
    llm_output_tokens = models.PositiveIntegerField(default=0)
    translated_characters = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "target_language", "level"]
        indexes = [models.Index(fields=["target_language", "level", "-date"])]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "target_language", "level"],
                name="digest_one_per_day_language_level",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.target_language} {self.level}"


class DigestItem(models.Model):
    """A news item a digest cites, in the order the writer cited it."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="citations")
    item = models.ForeignKey(NewsItem, on_delete=models.CASCADE, related_name="citations")
    index = models.PositiveIntegerField()

    class Meta:
        ordering = ["digest", "index"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "item"], name="digest_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.digest} cites {self.item_id}"


class DigestSentence(models.Model):
    """One sentence of a digest's reading."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="sentences")
    index = models.PositiveIntegerField()
    text = models.TextField()
    # Where the sentence is read in the digest's audio file (milliseconds from
    # its start); empty until the digest is voiced. Contiguous over a digest's
    # sentences: the first starts at 0, the last ends at ``DigestAudio.duration_ms``.
    start_ms = models.PositiveIntegerField(null=True, blank=True)
    end_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["digest", "index"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "index"], name="digest_sentence_unique")
        ]

    def __str__(self) -> str:
        return self.text


class DigestTranslation(models.Model):
    """A sentence of a digest in one native language."""

    sentence = models.ForeignKey(
        DigestSentence, on_delete=models.CASCADE, related_name="translations"
    )
    language = models.CharField(max_length=8)
    text = models.TextField()

    class Meta:
        ordering = ["sentence", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["sentence", "language"], name="digest_translation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"[{self.language}] {self.text}"


class DigestToken(models.Model):
    """A word (or punctuation mark) of a digest with its lemma and POS."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="tokens")
    index = models.PositiveIntegerField()
    sentence = models.PositiveIntegerField(help_text="Index of the sentence.")
    text = models.CharField(max_length=200)
    lemma = models.CharField(max_length=200)
    pos = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["digest", "index"]
        constraints = [
            models.UniqueConstraint(fields=["digest", "index"], name="digest_token_unique")
        ]

    def __str__(self) -> str:
        return self.text


class DigestAudio(models.Model):
    """The digest read aloud; the file lives in the ``audio`` storage."""

    digest = models.OneToOneField(Digest, on_delete=models.CASCADE, related_name="audio")
    file = models.CharField(max_length=300, help_text="Name in the audio storage.")
    content_type = models.CharField(max_length=100)
    duration_ms = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "digest audio"

    def __str__(self) -> str:
        return self.file
