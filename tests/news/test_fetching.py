"""Fetching news sources: feeds served from 127.0.0.1 by a real HTTP server.

Good RSS and Atom are stored item by item, once each; a malformed, unreachable,
oversized or refused feed is recorded on its source and logged in one line, and
the other sources are fetched all the same. Refused addresses are refused before
any connection: the test network guard would fail a test that connected to
10.0.0.1 or 169.254.169.254, and the fake server records every request it gets.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from news.models import NewsItem, NewsSource
from news.services import source_fetch, sources_fetch

from tests.support.factories import make_news_source
from tests.support.fakes.feeds import (
    RSS_TYPE,
    FeedServer,
    closed_port_url,
    gzipped,
    redirect,
    rss_with,
)
from tests.support.fakes.server import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def feeds(settings) -> Iterator[FeedServer]:
    settings.NEWS_ALLOW_PRIVATE_HOSTS = True
    settings.NEWS_FETCH_TIMEOUT = 5.0
    settings.NEWS_FETCH_MAX_BYTES = 64_000
    settings.NEWS_FETCH_MAX_REDIRECTS = 2
    with FeedServer() as server:
        yield server


def fetched(source: NewsSource) -> NewsSource:
    source_fetch(source=source)
    source.refresh_from_db()
    return source


def headlines(source: NewsSource) -> list[str]:
    return sorted(source.items.values_list("headline", flat=True))


# --- Good feeds -------------------------------------------------------------------


def test_an_rss_feed_is_stored_item_by_item(feeds):
    source = make_news_source(url=feeds.url + "/rss", language="es")
    result = source_fetch(source=source)

    assert (result.new, result.seen, result.error) == (2, 0, "")
    source.refresh_from_db()
    assert source.last_fetch_status == NewsSource.FetchStatus.OK
    assert source.last_fetch_error == ""
    assert source.last_fetched_at is not None
    faro = source.items.get(headline="El faro vuelve a brillar")
    assert faro.summary == "Tras diez años, el faro se enciende."  # tags stripped
    assert faro.link == "https://noticias.example/faro"
    assert faro.published_at == datetime(2025, 1, 6, 7, 30, tzinfo=UTC)
    fiesta = source.items.get(guid="fiesta-2025")
    assert fiesta.link == feeds.url + "/fiesta"  # relative link made absolute
    assert fiesta.published_at == datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
    assert feeds.requests[0].headers["user-agent"].startswith("langlearn-news/")


def test_an_atom_feed_is_stored_and_a_non_http_link_is_dropped(feeds):
    source = fetched(make_news_source(url=feeds.url + "/atom", language="fr"))

    assert source.last_fetch_status == NewsSource.FetchStatus.OK
    assert headlines(source) == ["Le phare brille de nouveau", "Un lien douteux"]
    phare = source.items.get(headline="Le phare brille de nouveau")
    assert phare.link == "https://nouvelles.example/phare"
    assert phare.summary == "Après dix ans, le phare se rallume."
    assert phare.published_at == datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    assert source.items.get(headline="Un lien douteux").link == ""


def test_the_same_item_seen_twice_is_stored_once(feeds):
    url = feeds.route("/daily", Reply(body=rss_with("a", "b"), headers=RSS_TYPE))
    source = make_news_source(url=url)
    first = source_fetch(source=source)
    feeds.route("/daily", Reply(body=rss_with("b", "c", "c"), headers=RSS_TYPE))
    second = source_fetch(source=source)

    assert (first.new, first.seen) == (2, 0)
    assert (second.new, second.seen) == (1, 1)  # "c" listed twice in one feed: one item
    assert sorted(source.items.values_list("guid", flat=True)) == ["a", "b", "c"]
    # The same guid in another source is another item.
    other = make_news_source(url=feeds.route("/mirror", Reply(body=rss_with("a"))))
    assert source_fetch(source=other).new == 1
    assert NewsItem.objects.filter(guid="a").count() == 2


def test_an_item_seen_again_keeps_when_it_was_first_seen_and_takes_the_new_headline(feeds):
    url = feeds.route("/daily", Reply(body=rss_with("a")))
    source = make_news_source(url=url)
    source_fetch(source=source)
    before = source.items.get()
    feeds.route("/daily", Reply(body=rss_with("a").replace("Noticia a", "Noticia corregida")))
    source_fetch(source=source)

    after = source.items.get()
    assert after.id == before.id
    assert after.headline == "Noticia corregida"
    assert after.first_seen_at == before.first_seen_at
    assert after.last_seen_at > before.last_seen_at


# --- Feeds that go wrong, each recorded on its source -----------------------------


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/malformed", "malformed feed: <unknown>:1:"),
        ("/html", "not an RSS or Atom feed"),
        ("/missing", "the server answered HTTP 404"),
    ],
)
def test_a_feed_we_cannot_read_is_recorded_on_its_source(feeds, path, error):
    source = fetched(make_news_source(url=feeds.url + path))
    assert source.last_fetch_status == NewsSource.FetchStatus.ERROR
    assert source.last_fetch_error.startswith(error), source.last_fetch_error
    assert source.last_fetched_at is not None
    assert not source.items.exists()


def test_an_unreachable_feed_is_recorded(feeds):
    source = fetched(make_news_source(url=closed_port_url()))
    assert source.last_fetch_status == NewsSource.FetchStatus.ERROR
    assert source.last_fetch_error.startswith("cannot fetch 127.0.0.1: ")
    assert "refused" in source.last_fetch_error.lower()


def test_a_feed_that_does_not_answer_in_time_is_recorded(feeds, settings):
    settings.NEWS_FETCH_TIMEOUT = 0.3
    url = feeds.route("/slow", Reply(body=rss_with("a"), delay=3))
    source = fetched(make_news_source(url=url))
    assert source.last_fetch_error == "no answer within 0.3 s"


def test_an_oversized_feed_is_refused_by_its_declared_length(feeds, settings):
    settings.NEWS_FETCH_MAX_BYTES = 4096
    big = rss_with(*(f"item-{n}" for n in range(200)))
    assert len(big) > 4096
    source = fetched(make_news_source(url=feeds.route("/big", Reply(body=big))))
    assert source.last_fetch_error == "the feed is larger than 4096 bytes"
    assert not source.items.exists()


def test_an_oversized_feed_is_cut_off_while_streaming_even_when_compressed(feeds, settings):
    settings.NEWS_FETCH_MAX_BYTES = 4096
    bomb = rss_with("a") + " " * 1_000_000  # a few kB on the wire, 1 MB unpacked
    source = fetched(make_news_source(url=feeds.route("/bomb", gzipped(bomb))))
    assert source.last_fetch_error == "the feed is larger than 4096 bytes"


def test_one_failing_feed_does_not_fail_the_others_and_is_logged_in_one_line(feeds, caplog):
    broken = make_news_source(url=feeds.url + "/malformed")
    gone = make_news_source(url=closed_port_url())
    good = make_news_source(url=feeds.url + "/rss")
    make_news_source(url=feeds.url + "/atom", language="fr", enabled=False)

    with caplog.at_level(logging.INFO, logger="news"):
        report = sources_fetch()

    assert [r.source_id for r in report.results] == [broken.id, gone.id, good.id]
    assert [r.ok for r in report.results] == [False, False, True]
    assert (report.new, len(report.failed)) == (2, 2)
    statuses = dict(NewsSource.objects.values_list("id", "last_fetch_status"))
    assert statuses[good.id] == NewsSource.FetchStatus.OK
    assert statuses[broken.id] == statuses[gone.id] == NewsSource.FetchStatus.ERROR
    failures = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(failures) == 2
    for record in failures:
        line = record.getMessage()
        assert "\n" not in line
        assert record.exc_info is None
        assert line.startswith("news fetch failed: source=")


# --- Addresses we never connect to ---------------------------------------------------


def test_private_hosts_are_refused_by_default_before_connecting(feeds, settings):
    settings.NEWS_ALLOW_PRIVATE_HOSTS = False
    source = fetched(make_news_source(url=feeds.url + "/rss"))
    assert source.last_fetch_status == NewsSource.FetchStatus.ERROR
    assert source.last_fetch_error == (
        f"refused '{feeds.url}/rss': 127.0.0.1 is a loopback address "
        "(NEWS_ALLOW_PRIVATE_HOSTS can allow it)"
    )
    assert feeds.requests == []


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("http://10.0.0.1/feed", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://127.0.0.2:9/feed", "127.0.0.2 is a loopback address"),
        ("http://[::ffff:192.168.1.1]/feed", "::ffff:192.168.1.1 is a private address"),
        ("http://0.0.0.0/feed", "0.0.0.0 is an unspecified address"),
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    feeds, settings, location, error
):
    settings.NEWS_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]  # the feed server, and nothing else
    source = fetched(make_news_source(url=feeds.route("/moved", redirect(location))))
    assert source.last_fetch_status == NewsSource.FetchStatus.ERROR
    assert f"refused '{location}': {error}" in source.last_fetch_error
    assert [r.path for r in feeds.requests] == ["/moved"]


def test_redirects_within_the_limit_are_followed_each_hop_checked(feeds, settings):
    settings.NEWS_FETCH_MAX_REDIRECTS = 3
    feeds.route("/one", redirect("/two", 301))
    source = make_news_source(url=feeds.route("/start", redirect(feeds.url + "/one")))
    feeds.route("/two", redirect("/rss", 308))
    assert fetched(source).last_fetch_status == NewsSource.FetchStatus.OK
    assert [r.path for r in feeds.requests] == ["/start", "/one", "/two", "/rss"]
    assert headlines(source)[0] == "El faro vuelve a brillar"


def test_too_many_redirects_are_refused(feeds):
    source = fetched(make_news_source(url=feeds.route("/loop", redirect("/loop"))))
    assert source.last_fetch_error == "too many redirects (more than 2)"
    assert len(feeds.requests) == 3  # the first request and two redirects


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed", "file:///etc/passwd"])
def test_only_http_and_https_are_fetched(feeds, url):
    source = fetched(NewsSource.objects.create(url=url, language="es"))  # past validation
    assert source.last_fetch_error == f"refused '{url}': only http and https URLs are fetched"

    via = fetched(make_news_source(url=feeds.route("/sneaky", redirect(url))))
    assert via.last_fetch_error == f"refused '{url}': only http and https URLs are fetched"


def test_the_checked_address_is_the_one_connected_to(feeds, settings, monkeypatch):
    """DNS rebinding: the name is resolved once, checked, and that address used."""
    settings.NEWS_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]
    port = int(feeds.url.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "10.0.0.1"])  # a second lookup would rebind
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def dns(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "feeds.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    source = fetched(make_news_source(url=f"http://feeds.test:{port}/rss"))

    assert source.last_fetch_status == NewsSource.FetchStatus.OK, source.last_fetch_error
    assert lookups == ["feeds.test"]
    assert feeds.requests[0].headers["host"] == f"feeds.test:{port}"


# --- What staff may enter -------------------------------------------------------------


def test_a_source_needs_an_http_url_and_a_language_we_teach_or_translate_into():
    for url, language in [("https://news.example/rss", "es"), ("http://news.example/", "ja")]:
        NewsSource(url=url, language=language).full_clean()
    with pytest.raises(ValidationError) as refused:
        NewsSource(url="ftp://news.example/rss", language="xx").full_clean()
    assert set(refused.value.message_dict) == {"url", "language"}
    assert "'xx' is not a language we teach or translate into" in str(refused.value)
