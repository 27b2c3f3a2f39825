"""The TLS context the provider SDKs verify their servers with, one per process.

Left to themselves the SDKs build one for every client (Gemini's, two), and
building one reads the whole CA bundle: 20-50 ms of CPU each time the clients
are built (the tests build them afresh for every test). A configured
``ssl.SSLContext`` is only read by the connections that use it, so clients and
threads can share it. It is the one ``httpx2`` (the SDKs' HTTP library) builds
by default: ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` when set, else the system's
store.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx2


@cache
def context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()
