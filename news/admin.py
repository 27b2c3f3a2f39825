"""News sources and items in the staff console.

Staff edit a source's feed URL, language and whether it is enabled; what the
fetcher writes (fetch status, the items) is read-only. "Fetch now" calls the
same service as ``manage.py fetch_news``, within the request: each source is
bounded by ``NEWS_FETCH_TIMEOUT``.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import NewsItem, NewsSource, language_choices
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
