#!/usr/bin/env python3
"""Health check of the api container: exit 0 when it answers 200, else 1 and why.

Standard library only (the slim image has no curl). It asks
``http://127.0.0.1:$PORT$HEALTHCHECK_PATH`` (default ``/healthz`` on port 8000)
with a Host header taken from ALLOWED_HOSTS, because Django answers 400 to a
request for a host it does not serve, and production hosts are real domains.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def host_header(allowed_hosts: str) -> str:
    for entry in allowed_hosts.split(","):
        host = entry.strip().lstrip(".")  # ".example.com" also allows example.com
        if host and "*" not in host:
            return host
    return "localhost"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    path = os.environ.get("HEALTHCHECK_PATH", "/healthz")
    url = f"http://127.0.0.1:{port}{path}"
    request = urllib.request.Request(
        url, headers={"Host": host_header(os.environ.get("ALLOWED_HOSTS", ""))}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"unhealthy: {url} unreachable: {exc}")
        return 1
    if status != 200:
        print(f"unhealthy: {url} answered {status}")
        return 1
    print(f"healthy: {url} answered 200")
    return 0


if __name__ == "__main__":
    sys.exit(main())
