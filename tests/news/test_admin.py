"""News sources and items in the staff console: pages within the query bound,
what staff may edit, and the "Fetch now" action against feeds on 127.0.0.1."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.models import User
from news import digests
from news.models import Digest, NewsItem, NewsSource
from news.pipeline import run_digest_pipeline

from tests.support.factories import (
    make_adventure,
    make_digest,
    make_news_item,
    make_news_source,
    make_user,
)
from tests.support.fakes.feeds import FeedServer, closed_port_url

pytestmark = pytest.mark.django_db

MAX_QUERIES = 15  # as tests/adventures/test_admin.py


@pytest.fixture(autouse=True)
def _console_settings(settings, _isolated) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff", password="staff-passphrase-1"))
    return client


@pytest.fixture
def feeds(settings) -> Iterator[FeedServer]:
    settings.NEWS_ALLOW_PRIVATE_HOSTS = True
    with FeedServer() as server:
        yield server


@pytest.fixture
def sources() -> list[NewsSource]:
    made = []
    for n in range(6):
        source = make_news_source(
            url=f"https://news{n}.example/rss",
            language=("es", "fr", "de")[n % 3],
            last_fetch_status=NewsSource.FetchStatus.ERROR if n == 2 else "ok",
            last_fetch_error="the server answered HTTP 503" if n == 2 else "",
        )
        for guid in ("a", "b", "c", "d"):
            make_news_item(source, guid=guid, headline=f"Titular {n}{guid}")
        made.append(source)
    return made


def test_news_pages_render_within_the_query_bound(console, sources, django_assert_max_num_queries):
    item = NewsItem.objects.order_by("pk").first()
    assert item is not None
    pages = [
        reverse("admin:news_newssource_changelist"),
        reverse("admin:news_newssource_changelist") + "?last_fetch_status__exact=error",
        reverse("admin:news_newssource_change", args=[sources[2].id]),
        reverse("admin:news_newssource_add"),
        reverse("admin:news_newsitem_changelist"),
        reverse("admin:news_newsitem_changelist") + f"?source__id__exact={sources[0].id}&q=Titular",
        reverse("admin:news_newsitem_change", args=[item.id]),
    ]
    for url in pages:
        with django_assert_max_num_queries(MAX_QUERIES):
            response = console.get(url)
        assert response.status_code == 200, url

    listing = console.get(reverse("admin:news_newssource_changelist")).content.decode()
    assert "the server answered HTTP 503" in listing
    page = console.get(reverse("admin:news_newssource_change", args=[sources[2].id]))
    html = page.content.decode()
    assert "4 items" in html
    assert 'name="last_fetch_status"' not in html  # read-only
    items = console.get(
        reverse("admin:news_newsitem_changelist") + f"?source__id__exact={sources[1].id}"
    ).content.decode()
    assert "Titular 1a" in items
    assert "Titular 0a" not in items


def test_staff_add_a_source_with_an_http_url_and_a_known_language(console):
    add = reverse("admin:news_newssource_add")
    refused = console.post(add, {"url": "file:///etc/passwd", "language": "xx", "enabled": "on"})
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert set(errors) == {"url", "language"}
    assert not NewsSource.objects.exists()

    added = console.post(
        add, {"name": "El Puerto", "url": "https://puerto.example/rss", "language": "es"}
    )
    assert added.status_code == 302
    source = NewsSource.objects.get()
    assert (source.name, source.language, source.enabled) == ("El Puerto", "es", False)
    assert source.last_fetch_status == NewsSource.FetchStatus.NEVER


def test_items_are_read_only(console, sources):
    item = NewsItem.objects.first()
    assert item is not None
    change = reverse("admin:news_newsitem_change", args=[item.id])
    console.post(change, {"headline": "Changed"})
    item.refresh_from_db()
    assert item.headline != "Changed"
    assert console.get(reverse("admin:news_newsitem_add")).status_code == 403


def test_fetch_now_fetches_the_selected_sources_and_reports(console, feeds):
    good = make_news_source(url=feeds.url + "/rss", enabled=False)  # selected: fetched anyway
    gone = make_news_source(url=closed_port_url())
    untouched = make_news_source(url=feeds.url + "/atom", language="fr")

    response = console.post(
        reverse("admin:news_newssource_changelist"),
        {"action": "fetch_now", "_selected_action": [good.id, gone.id]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown[0] == "Fetched 1 of 2 sources: 2 new items, 0 already seen."
    assert shown[1].startswith(f"{gone.url}: cannot fetch 127.0.0.1: ")
    assert good.items.count() == 2
    untouched.refresh_from_db()
    assert untouched.last_fetch_status == NewsSource.FetchStatus.NEVER
    gone.refresh_from_db()
    assert gone.last_fetch_status == NewsSource.FetchStatus.ERROR


# --- Digests ----------------------------------------------------------------------


@pytest.fixture
def built(sources) -> Digest:
    """A digest the real pipeline built (stub providers) from six sources' items,
    translated into two native languages."""
    make_adventure(make_user("ana"), target_language="es", native_language="de")
    plan = digests.build_plan(date=timezone.now().date(), target_languages=["es"], levels=["A2"])
    [digest] = digests.digests_for(plan)
    async_to_sync(run_digest_pipeline)(digest_id=digest.id)
    digest.refresh_from_db()
    assert digest.status == Digest.Status.COMPLETE
    return digest


def test_digest_pages_render_within_the_query_bound(console, built, django_assert_max_num_queries):
    for n in range(8):
        make_digest(
            date=built.date - datetime.timedelta(days=n + 1),
            status=Digest.Status.ERROR if n % 2 else Digest.Status.COMPLETE,
            error_detail="ProviderError: the voice is down" if n % 2 else "",
        )
    pages = [
        reverse("admin:news_digest_changelist"),
        reverse("admin:news_digest_changelist") + "?status__exact=error&q=voice",
        reverse("admin:news_digest_change", args=[built.id]),
    ]
    for url in pages:
        with django_assert_max_num_queries(MAX_QUERIES):
            response = console.get(url)
        assert response.status_code == 200, url

    listing = console.get(reverse("admin:news_digest_changelist")).content.decode()
    assert "ProviderError: the voice is down" in listing
    assert "G T A V" in listing
    page = console.get(reverse("admin:news_digest_change", args=[built.id])).content.decode()
    citation = built.citations.select_related("item").first()
    assert citation is not None
    assert citation.item.headline in page  # its items, linked
    assert reverse("admin:news_newsitem_change", args=[citation.item_id]) in page
    assert "<audio controls" in page
    assert built.audio.file in page
    assert "<div><b>de</b> [de] " in page  # a sentence's translations
    assert "<div><b>en</b> [en] " in page
    # Where each sentence is read in the audio; the last ends with the file.
    ends = re.findall(r'class="field-end_ms">\s*<p>(\d+)</p>', page)
    assert ends == [str(end) for end in built.sentences.values_list("end_ms", flat=True)]
    assert ends[-1] == str(built.audio.duration_ms)
    assert 'name="title"' not in page  # read-only


def test_rerun_queues_digests_in_error_and_skips_the_others(console, built):
    failed = make_digest(
        date=built.date - datetime.timedelta(days=1),
        status=Digest.Status.ERROR,
        error_detail="ProviderError: boom",
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")

    response = console.post(
        reverse("admin:news_digest_changelist"),
        {"action": "rerun_digests", "_selected_action": [failed.id, built.id]},
        follow=True,
    )

    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "Re-queued 1 digest.",
        "Skipped 1: only digests in error are re-run.",
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.error_detail) == (Digest.Status.PENDING, "")
    [job] = ProcrastinateJob.objects.all()
    assert (job.task_name, job.args) == ("news.build_digest", {"digest_id": failed.id})
    assert job.queue_name == "adventure_pipeline"
    assert console.get(reverse("admin:news_digest_add")).status_code == 403
