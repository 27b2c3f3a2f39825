"""Fetch a feed over HTTP without turning the server into a proxy into its network.

``fetch(url)`` returns the body, or raises ``FetchError`` with a one-line reason.
Every hop (the first request and each redirect, followed by hand) is checked:

- only ``http`` and ``https``;
- the host is resolved here, and *every* address it resolves to must be public
  (not loopback, private, link-local, shared, reserved, multicast or unspecified)
  unless ``NEWS_ALLOW_PRIVATE_HOSTS`` allows it;
- the connection then goes to the address that was checked: the request's URL
  names that IP, with the original ``Host`` header and, for https, the original
  name as SNI and for certificate verification. A DNS answer that changes between
  the check and the connect (rebinding) is never used;
- at most ``NEWS_FETCH_MAX_REDIRECTS`` redirects;
- ``NEWS_FETCH_TIMEOUT`` seconds for each connect and read, and for the whole
  download (a server dripping bytes cannot hold the run);
- at most ``NEWS_FETCH_MAX_BYTES`` of (decompressed) body: the download stops
  as soon as it goes past, so an oversized or gzip-bomb feed costs no more.

Proxies from the environment are ignored (``trust_env=False``): a proxy would
connect to addresses we never checked.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from functools import cache
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

USER_AGENT = "langlearn-news/1 (+feed reader)"
REDIRECTS = {301, 302, 303, 307, 308}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class FetchError(Exception):
    """The feed could not be fetched; ``str()`` is a one-line reason for staff."""


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    body: bytes
    content_type: str


def fetch(url: str) -> Fetched:
    timeout = float(settings.NEWS_FETCH_TIMEOUT)
    max_bytes = int(settings.NEWS_FETCH_MAX_BYTES)
    max_redirects = int(settings.NEWS_FETCH_MAX_REDIRECTS)
    deadline = time.monotonic() + timeout
    allowed = allowed_networks(settings.NEWS_ALLOW_PRIVATE_HOSTS)
    for _hop in range(max_redirects + 1):
        target = _check_url(url, allowed)
        response, body = _get(target, timeout=timeout, deadline=deadline, max_bytes=max_bytes)
        if response.status_code in REDIRECTS and response.headers.get("location"):
            url = urljoin(url, response.headers["location"])
            continue
        if response.status_code != 200:
            raise FetchError(f"the server answered HTTP {response.status_code}")
        return Fetched(url=url, body=body, content_type=response.headers.get("content-type", ""))
    raise FetchError(f"too many redirects (more than {max_redirects})")


def allowed_networks(setting: bool | list[str] | tuple[str, ...]) -> list[IPNetwork]:
    """``NEWS_ALLOW_PRIVATE_HOSTS``: False (none), True (all) or networks."""
    if setting is True:
        return [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    if not setting:
        return []
    return [ipaddress.ip_network(item, strict=False) for item in setting]


@dataclass(frozen=True)
class _Target:
    url: str  # the URL with the checked IP as its host
    host: str  # the name as given: Host header, SNI, certificate
    host_header: str


def _check_url(url: str, allowed: list[IPNetwork]) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"refused {url!r}: only http and https URLs are fetched")
    host = parts.hostname
    if not host:
        raise FetchError(f"not a valid URL: {url!r} (no host)")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _resolve(host, port)
    for address in addresses:
        problem = _refusal(address, allowed)
        if problem:
            raise FetchError(
                f"refused {url!r}: {host} is {problem}"
                + ("" if str(address) == host else f" ({address})")
                + " (NEWS_ALLOW_PRIVATE_HOSTS can allow it)"
            )
    pinned = addresses[0]
    netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    host_header = parts.netloc.rpartition("@")[2]  # never send userinfo as Host
    return _Target(
        url=parts._replace(netloc=f"{netloc}:{port}").geturl(),
        host=host,
        host_header=host_header,
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no address")
    return addresses


def _refusal(address: IPAddress, allowed: list[IPNetwork]) -> str | None:
    """Why we will not connect to ``address``; None when we will."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in _NAT64 else None
        )
        if embedded is not None:
            address = embedded
    if address.is_unspecified or address.is_multicast:
        return "an unspecified address" if address.is_unspecified else "a multicast address"
    if address.is_global:
        return None
    if any(address in network for network in allowed if network.version == address.version):
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_private:
        return "a private address"
    return "a reserved address"


def _get(
    target: _Target, *, timeout: float, deadline: float, max_bytes: int
) -> tuple[httpx.Response, bytes]:
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5",
    }
    request_extensions = {"sni_hostname": target.host}
    # A client per hop: no pooled connection (and its TLS session, verified for
    # another name) is reused for a different host.
    with httpx.Client(
        timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context()
    ) as client:
        request = client.build_request(
            "GET", target.url, headers=headers, extensions=request_extensions
        )
        try:
            response = client.send(request, stream=True)
            try:
                return response, _read(
                    response, timeout=timeout, deadline=deadline, limit=max_bytes
                )
            finally:
                response.close()
        except httpx.TimeoutException:
            raise FetchError(f"no answer within {timeout:g} s") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise FetchError(f"cannot fetch {target.host}: {reason}") from None


@cache
def _tls_context() -> ssl.SSLContext:
    """What httpx verifies with by default when the environment is ignored
    (certifi's bundle), built once per process: building one reads the whole
    bundle (20-50 ms of CPU), and a fetch builds a client for every hop. The
    connections only read it."""
    return httpx.create_ssl_context(trust_env=False)


def _read(response: httpx.Response, *, timeout: float, deadline: float, limit: int) -> bytes:
    """The body, stopping as soon as it is over ``limit`` bytes or time is up."""
    if response.status_code in REDIRECTS:
        return b""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"the feed is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise FetchError(f"the feed is larger than {limit} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"the download took longer than {timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)
