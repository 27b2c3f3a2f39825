"""The reader's page as a browser first gets it: one HTML page under a strict
Content-Security-Policy, its own small ES modules and stylesheet, and only the
public API behind it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from django.core.files.storage import FileSystemStorage
from django.test import Client

from langlearn.staticfiles import ManifestStaticFilesStorage
from reader.views import content_security_policy

STATIC = Path(__file__).resolve().parents[2] / "reader" / "static" / "reader"
BUDGET = 100 * 1024  # bytes of our own JavaScript and CSS, uncompressed


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_text += data.strip()


def get_page() -> tuple[int, dict[str, str], Tags]:
    response = Client().get("/")
    tags = Tags()
    tags.feed(response.content.decode())
    return response.status_code, dict(response.headers), tags


def test_the_page_is_served_at_the_root_under_a_strict_policy():
    status, headers, tags = get_page()
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    policy = dict(part.split(" ", 1) for part in headers["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in headers["Cache-Control"]
    # No inline script, no inline handler, no inline style.
    scripts = [attrs for tag, attrs in tags.tags if tag == "script"]
    assert scripts == [{"type": "module", "src": "/static/reader/app.js"}]
    assert tags.script_text == ""
    for _tag, attrs in tags.tags:
        assert not [name for name in attrs if name.startswith("on") or name == "style"]
    assert Client().head("/").status_code == 200


def test_audio_from_object_storage_is_allowed_and_nothing_else_is(settings):
    assert "media-src 'self';" in content_security_policy()
    settings.STORAGE_BACKEND = "s3"
    assert "media-src 'self' https:;" in content_security_policy()
    settings.MEDIA_URL = "https://cdn.example/media/"
    assert "media-src 'self' https://cdn.example https:;" in content_security_policy()


def test_the_page_names_only_files_that_exist():
    _status, _headers, tags = get_page()
    named = [
        attrs.get("src") or attrs.get("href")
        for tag, attrs in tags.tags
        if tag in {"script", "link"}
    ]
    for url in named:
        assert url
        assert url.startswith("/static/reader/")
        assert (STATIC / url.removeprefix("/static/reader/")).is_file(), url


def test_modules_import_only_each_other():
    for module in STATIC.glob("*.js"):
        source = module.read_text()
        for target in re.findall(r"""\bfrom\s+["']([^"']+)["']""", source):
            assert target.startswith("./"), (module, target)
            assert (STATIC / target[2:]).is_file(), (module, target)
        # Nothing the page's policy would refuse, or that a static build would miss.
        assert "import(" not in source, module
        assert "eval(" not in source, module
        assert "innerHTML" not in source, module


def test_our_javascript_and_css_stay_under_100_kb():
    own = [path for path in STATIC.iterdir() if path.suffix in {".js", ".css"}]
    total = sum(path.stat().st_size for path in own)
    print(f"reader: {len(own)} files, {total} bytes of JavaScript and CSS")
    assert 0 < total <= BUDGET


def test_a_release_names_each_module_by_its_hash_and_so_do_their_imports(tmp_path):
    """collectstatic in production (``DEBUG`` off): the page's modules import
    each other by their hashed names, so browsers may cache them for good.
    (Django's patterns also match the words import and export in a comment
    above an import, and then hash its name twice: every module is read.)"""
    storage = ManifestStaticFilesStorage(location=tmp_path, base_url="/static/")
    source = FileSystemStorage(location=STATIC.parent)
    names = [f"reader/{path.name}" for path in STATIC.iterdir()]
    for name in names:
        with source.open(name) as file:
            storage.save(name, file)
    for _name, _hashed, problem in storage.post_process({n: (source, n) for n in names}):
        assert not isinstance(problem, Exception), problem
    api = Path(storage.stored_name("reader/api.js")).name
    assert re.fullmatch(r"api\.[0-9a-f]{12}\.js", api)
    assert f'from "./{api}";' in (tmp_path / storage.stored_name("reader/app.js")).read_text()
    for module in (name for name in names if name.endswith(".js")):
        release = (tmp_path / storage.stored_name(module)).read_text()
        for target in re.findall(r"""\bfrom\s+["']([^"']+)["']""", release):
            assert re.fullmatch(r"\./\w+\.[0-9a-f]{12}\.js", target), (module, target)
    assert (tmp_path / f"reader/{api}.gz").is_file()
