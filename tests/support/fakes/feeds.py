"""News feeds served from 127.0.0.1: good RSS and Atom, and the ways feeds go wrong.

``FeedServer`` is a ``FakeServer`` answering by path from ``routes``; an unknown
path is a 404. ``closed_port_url()`` is an address nothing listens on.
"""

from __future__ import annotations

import gzip
import socket

from tests.support.fakes.server import FakeServer, Reply, Request

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>Noticias del puerto</title>
    <link>https://noticias.example/</link>
    <description>Lo que pasa en el puerto</description>
    <item>
      <title>El faro vuelve a brillar</title>
      <link>https://noticias.example/faro</link>
      <guid>https://noticias.example/faro</guid>
      <description>&lt;p&gt;Tras &lt;b&gt;diez años&lt;/b&gt;,
        el faro se enciende.&lt;/p&gt;</description>
      <pubDate>Mon, 06 Jan 2025 08:30:00 +0100</pubDate>
    </item>
    <item>
      <title>Los pescadores celebran la fiesta</title>
      <link>/fiesta</link>
      <guid isPermaLink="false">fiesta-2025</guid>
      <description>Música y sardinas en el muelle.</description>
      <pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate>
    </item>
    <item>
      <title>El faro vuelve a brillar</title>
      <link>https://noticias.example/faro</link>
      <guid>https://noticias.example/faro</guid>
      <description>The same item, listed twice by the feed.</description>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Nouvelles du port</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2025-01-06T09:00:00Z</updated>
  <entry>
    <title>Le phare brille de nouveau</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <link href="https://nouvelles.example/phare"/>
    <updated>2025-01-06T09:00:00Z</updated>
    <summary>Après dix ans, le phare se rallume.</summary>
  </entry>
  <entry>
    <title>Un lien douteux</title>
    <id>urn:uuid:2</id>
    <link href="javascript:alert(1)"/>
    <updated>2025-01-06T07:00:00Z</updated>
    <summary>Its link is not http.</summary>
  </entry>
</feed>
"""

MALFORMED = '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Cut off'

RSS_TYPE = {"Content-Type": "application/rss+xml; charset=utf-8"}
ATOM_TYPE = {"Content-Type": "application/atom+xml; charset=utf-8"}


def rss_with(*guids: str) -> str:
    """An RSS feed with one item per guid."""
    items = "".join(
        f"<item><title>Noticia {guid}</title><guid>{guid}</guid>"
        f"<link>https://noticias.example/{guid}</link></item>"
        for guid in guids
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    )


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, headers={"Location": location})


def gzipped(text: str) -> Reply:
    """A small compressed body that is large once decompressed."""
    return Reply(
        body=gzip.compress(text.encode()), headers={**RSS_TYPE, "Content-Encoding": "gzip"}
    )


class FeedServer(FakeServer):
    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {
            "/rss": Reply(body=RSS, headers=RSS_TYPE),
            "/atom": Reply(body=ATOM, headers=ATOM_TYPE),
            "/malformed": Reply(body=MALFORMED, headers=RSS_TYPE),
            "/html": Reply(body="<html><body>Not a feed</body></html>"),
        }
        super().__init__(self._route)

    def _route(self, request: Request) -> Reply:
        return self.routes.get(request.path) or Reply(status=404, body="not found")

    def __enter__(self) -> FeedServer:
        self.start()
        return self

    def route(self, path: str, reply: Reply) -> str:
        """Serve ``reply`` at ``path``; its full URL."""
        self.routes[path] = reply
        return self.url + path


def closed_port_url() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"
