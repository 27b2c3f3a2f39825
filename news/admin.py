"""News sources, items and digests in the staff console.

Staff edit a source's feed URL, language and whether it is enabled; what the
fetcher writes (fetch status, the items) is read-only. "Fetch now" calls the
same service as ``manage.py fetch_news``, within the request: each source is
bounded by ``NEWS_FETCH_TIMEOUT``. Digests are read-only (what the pipeline
wrote, with their cited items, sentences and translations, tokens and audio);
"Re-run" queues a digest in error again, as entries have.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from adventures.admin import audio_player_html, steps_done

from .digests import digests_rerun
from .models import (
    Digest,
    DigestItem,
    DigestSentence,
    DigestToken,
    NewsItem,
    NewsSource,
    language_choices,
)
from .services import sources_fetch


class NewsSourceForm(forms.ModelForm):
    language = forms.ChoiceField(choices=language_choices)

    class Meta:
        model = NewsSource
        fields = ("name", "url", "language", "enabled")


@admin.register(NewsSource)
class NewsSourceAdmin(admin.ModelAdmin):
    form = NewsSourceForm
    list_display = (
        "__str__",
        "language",
        "enabled",
        "last_fetch_status",
        "last_fetched_at",
        "error_excerpt",
        "item_count",
    )
    list_filter = ("enabled", "language", "last_fetch_status")
    search_fields = ("name", "url")
    fields = (
        "name",
        "url",
        "language",
        "enabled",
        "last_fetch_status",
        "last_fetched_at",
        "last_fetch_error",
        "items_link",
    )
    readonly_fields = ("last_fetch_status", "last_fetched_at", "last_fetch_error", "items_link")
    actions = ("fetch_now",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[NewsSource]:
        return super().get_queryset(request).annotate(_item_count=Count("items"))

    @admin.display(description="items", ordering="_item_count")
    def item_count(self, source: NewsSource) -> int:
        return getattr(source, "_item_count", 0)

    @admin.display(description="error")
    def error_excerpt(self, source: NewsSource) -> str:
        error = source.last_fetch_error
        return error if len(error) <= 80 else error[:79] + "…"

    @admin.display(description="items")
    def items_link(self, source: NewsSource) -> str:
        if source.pk is None:
            return "-"
        url = reverse("admin:news_newsitem_changelist") + f"?source__id__exact={source.pk}"
        return format_html('<a href="{}">{} items</a>', url, getattr(source, "_item_count", "all"))

    @admin.action(description="Fetch now", permissions=["change"])
    def fetch_now(self, request: HttpRequest, queryset: QuerySet[NewsSource]) -> None:
        report = sources_fetch(source_ids=queryset.values_list("id", flat=True))
        fetched = len(report.results) - len(report.failed)
        self.message_user(
            request,
            f"Fetched {fetched} of {len(report.results)} "
            f"source{'' if len(report.results) == 1 else 's'}: "
            f"{report.new} new items, {report.seen} already seen.",
            messages.SUCCESS if not report.failed else messages.WARNING,
        )
        for result in report.failed:
            self.message_user(request, f"{result.url}: {result.error}", messages.ERROR)


@admin.register(NewsItem)
class NewsItemAdmin(admin.ModelAdmin):
    list_display = ("headline", "source", "language", "published_at", "first_seen_at")
    list_select_related = ("source",)
    list_filter = ("source__language", "source", "published_at")
    search_fields = ("headline", "summary", "link")
    date_hierarchy = "first_seen_at"
    fields = (
        "source",
        "headline",
        "summary",
        "link_out",
        "guid",
        "published_at",
        "first_seen_at",
        "last_seen_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NewsItem | None = None) -> bool:
        return False

    @admin.display(description="language", ordering="source__language")
    def language(self, item: NewsItem) -> str:
        return item.source.language

    @admin.display(description="link")
    def link_out(self, item: NewsItem) -> str:
        if not item.link:
            return "-"
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', item.link, item.link)


# --- Digests ----------------------------------------------------------------------


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DigestItemInline(_ReadOnlyInline):
    model = DigestItem
    verbose_name = "cited item"
    verbose_name_plural = "cited items"
    fields = ("index", "headline", "source", "link_out")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestItem]:
        return super().get_queryset(request).select_related("item__source")

    @admin.display(description="headline")
    def headline(self, citation: DigestItem) -> str:
        url = reverse("admin:news_newsitem_change", args=[citation.item_id])
        return format_html('<a href="{}">{}</a>', url, citation.item.headline)

    @admin.display(description="source")
    def source(self, citation: DigestItem) -> str:
        return str(citation.item.source)

    @admin.display(description="link")
    def link_out(self, citation: DigestItem) -> str:
        link = citation.item.link
        if not link:
            return "-"
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', link, link)


class DigestSentenceInline(_ReadOnlyInline):
    model = DigestSentence
    verbose_name_plural = "sentences and translations"
    fields = ("index", "text", "translations_list", "start_ms", "end_ms")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DigestSentence]:
        return super().get_queryset(request).prefetch_related("translations")

    @admin.display(description="translations")
    def translations_list(self, sentence: DigestSentence) -> str:
        rows = [(t.language, t.text) for t in sentence.translations.all()]
        if not rows:
            return "-"
        return format_html_join("\n", "<div><b>{}</b> {}</div>", rows)


class DigestTokenInline(_ReadOnlyInline):
    model = DigestToken
    fields = ("index", "sentence", "text", "lemma", "pos")
    readonly_fields = fields
    classes = ("collapse",)


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "steps",
        "title",
        "citation_count",
        "error_excerpt",
        "updated_at",
    )
    list_filter = ("status", "target_language", "level", "date")
    search_fields = ("title", "text", "error_detail")
    date_hierarchy = "date"
    actions = ("rerun_digests",)
    inlines = (DigestItemInline, DigestSentenceInline, DigestTokenInline)
    fieldsets = (
        (None, {"fields": ("date", "target_language", "level", "status")}),
        ("Reading", {"fields": ("title", "text", "audio_player")}),
        ("Error", {"fields": ("error_detail",)}),
        (
            "Pipeline",
            {
                "fields": (
                    "generated_at",
                    "translated_at",
                    "annotated_at",
                    "voiced_at",
                    "completed_at",
                    "llm_input_tokens",
                    "llm_output_tokens",
                    "translated_characters",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = (
        *(f.name for f in Digest._meta.fields),
        "audio_player",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        return (
            super()
            .get_queryset(request)
            .select_related("audio")
            .annotate(_citations=Count("citations"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the nightly run and build_digest make digests

    @admin.display(description="steps")
    def steps(self, digest: Digest) -> str:
        return steps_done(
            digest.generated_at, digest.translated_at, digest.annotated_at, digest.voiced_at
        )

    @admin.display(description="items", ordering="_citations")
    def citation_count(self, digest: Digest) -> int:
        return getattr(digest, "_citations", 0)

    @admin.display(description="error")
    def error_excerpt(self, digest: Digest) -> str:
        return digest.error_detail[:80]

    @admin.display(description="audio")
    def audio_player(self, digest: Digest) -> str:
        return audio_player_html(getattr(digest, "audio", None))

    @admin.action(description="Re-run selected digests in error", permissions=["change"])
    def rerun_digests(self, request: HttpRequest, queryset: QuerySet[Digest]) -> None:
        result = digests_rerun(digest_ids=queryset.values_list("id", flat=True))
        count = len(result.requeued)
        self.message_user(
            request,
            f"Re-queued {count} digest{'' if count == 1 else 's'}.",
            messages.SUCCESS if count else messages.INFO,
        )
        if result.skipped:
            self.message_user(
                request,
                f"Skipped {result.skipped}: only digests in error are re-run.",
                messages.WARNING,
            )
