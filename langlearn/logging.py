"""Structured logs for the web and worker processes.

- ``JsonFormatter`` writes one JSON object per line (production);
  ``ReadableFormatter`` one human line (development). ``LOG_FORMAT`` picks.
- ``ContextFilter`` puts the ids of what is being worked on on every record:
  ``request_id`` (set by ``RequestIdMiddleware``), and ``job_id``, ``entry_id``
  and ``adventure_id`` (set by the pipeline task through ``job_context``, or
  read from the job Procrastinate attaches to its own records).
- ``RedactFilter`` scrubs secrets (passwords, tokens, keys, Authorization
  headers) from messages and extra fields. Request bodies are never logged.

Both filters sit on the handler, so they see every record that is written,
whichever logger it came from.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from langlearn import tracing

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)
entry_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("entry_id", default=None)
adventure_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "adventure_id", default=None
)

CONTEXT_FIELDS = ("request_id", "job_id", "entry_id", "adventure_id")
# Extra fields worth keeping in a JSON line; anything else passed as ``extra``
# (request objects, whole jobs) stays out.
EXTRA_FIELDS = (
    "method",
    "path",
    "status",
    "status_code",
    "duration_ms",
    "user_id",
    "action",
    "task",
    "attempt",
)


@contextlib.contextmanager
def job_context(*, job_id: int | None, entry_id: str, adventure_id: str) -> Iterator[None]:
    """Tag every log record written inside the block with the job's ids."""
    tokens = (
        job_id_var.set(job_id),
        entry_id_var.set(entry_id),
        adventure_id_var.set(adventure_id),
    )
    try:
        yield
    finally:
        job_id_var.reset(tokens[0])
        entry_id_var.reset(tokens[1])
        adventure_id_var.reset(tokens[2])


def observed_job(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a ``pass_context`` task taking ``adventure_id`` and ``entry_id``.

    Every record logged while the job runs carries its ids; the job runs in a
    tracing span (``langlearn.tracing``) continuing the trace of the request
    that deferred it. The wrapper accepts an optional ``trace_context`` kwarg,
    so jobs deferred with or without it run alike.
    """
    job_logger = logging.getLogger(func.__module__)

    @functools.wraps(func)
    async def wrapper(
        context: Any, *args: Any, trace_context: dict | None = None, **kwargs: Any
    ) -> Any:
        job_id = context.job.id
        entry_id, adventure_id = kwargs.get("entry_id", ""), kwargs.get("adventure_id", "")
        with (
            job_context(job_id=job_id, entry_id=entry_id, adventure_id=adventure_id),
            tracing.job_span(
                func.__name__, job_id=job_id, entry_id=entry_id, trace_context=trace_context
            ),
        ):
            started = time.perf_counter()
            job_logger.info(
                "%s started (attempt %d)",
                func.__name__,
                context.job.attempts + 1,
                extra={"task": func.__name__, "attempt": context.job.attempts + 1},
            )
            result = await func(context, *args, **kwargs)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            job_logger.info(
                "%s finished in %.1fms",
                func.__name__,
                duration_ms,
                extra={"task": func.__name__, "duration_ms": duration_ms},
            )
            return result

    return wrapper


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        record.entry_id = entry_id_var.get()
        record.adventure_id = adventure_id_var.get()
        if request_id is None:
            # django.request logs some responses after the middleware chain has
            # returned (and RequestIdMiddleware has reset the context): the
            # request it attaches still carries the id.
            request_id = getattr(record.__dict__.get("request"), "request_id", None)
        record.request_id = request_id
        job = record.__dict__.get("job")
        if isinstance(job, dict):
            # Procrastinate's worker records carry the job (id, task kwargs).
            kwargs = job.get("task_kwargs") or {}
            record.job_id = job_id_var.get() or job.get("id")
            record.entry_id = entry_id_var.get() or kwargs.get("entry_id")
            record.adventure_id = adventure_id_var.get() or kwargs.get("adventure_id")
        return True


# --- Redaction -----------------------------------------------------------------

SENSITIVE_KEY = re.compile(
    r"(password|passwd|passphrase|secret|secret[_-]?key|private[_-]?key|token|api[_-]?key"
    r"|authorization|cookie|credentials?)$",
    re.IGNORECASE,
)
REDACTED = "[redacted]"
# Names like password, access_token, api_key, DEEPL_API_KEY (not "input_tokens").
_KEY = r"[\w-]*(?:password|passwd|passphrase|secret|api[_-]?key|token)"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization: Bearer abc / Basic abc, in headers or reprs of them.
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(bearer|basic|token)?\s*[^\s'\",}]+"),
        rf"\1\2 {REDACTED}",
    ),
    # 'password': 'x', "token": "x" (dict and JSON reprs)
    (
        re.compile(rf"(?i)(['\"]{_KEY}['\"]\s*:\s*)(['\"])(?:\\.|(?!\2).)*\2"),
        rf"\1\2{REDACTED}\2",
    ),
    # password=x, api_key=x (query strings, kwargs, key=value lines)
    (re.compile(rf"(?i)\b({_KEY})=([^\s&,;'\")]+)"), rf"\1={REDACTED}"),
    # Bare JWTs anywhere.
    (re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]+"), REDACTED),
]


def redact_text(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    if depth > 5:
        return value
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and SENSITIVE_KEY.search(k)
            else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v, depth + 1) for v in value)
    if isinstance(value, str):
        return redact_text(value)
    return value


class RedactFilter(logging.Filter):
    """Scrub secrets from the message, its arguments and extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw text
            message = str(record.msg)
        record.msg = redact_text(message)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key in _RECORD_ATTRS:
                continue
            if SENSITIVE_KEY.search(key):
                record.__dict__[key] = REDACTED
            elif isinstance(value, dict | list | tuple | str):
                record.__dict__[key] = redact_value(value)
        return True


class ErrorResponsesOnlyFilter(logging.Filter):
    """On ``django.request``: keep 5xx records (they carry the traceback), drop
    4xx ones. ``RequestIdMiddleware`` already wrote one line per request, with
    its status and id; Django's "Not Found: /path" would be a second line."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = record.__dict__.get("status_code")
        return not (isinstance(status, int) and status < 500)


class SecurityOneLineFilter(logging.Filter):
    """Requests Django refuses (a bad Host header, an oversized body, a path
    outside the media folder) are logged on ``django.security.*`` with the
    exception's traceback; its message says all there is: keep one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.security"):
            record.exc_info = None
            record.exc_text = None
        return True


_RECORD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    *CONTEXT_FIELDS,
}


# --- Formatters ----------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, extras."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS + EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                data[field] = value
        if record.exc_info:
            data["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


class ReadableFormatter(logging.Formatter):
    """``time LEVEL logger message [request_id=… job_id=…]`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(
            f"{field}={value}"
            for field in CONTEXT_FIELDS
            if (value := getattr(record, field, None)) is not None
        )
        if not ids:
            return line
        head, _, tail = line.partition("\n")  # keep ids on the first line of a traceback
        return f"{head} [{ids}]" + (f"\n{tail}" if tail else "")

    def formatException(self, ei: Any) -> str:
        return redact_text(super().formatException(ei))


# --- Request ids ---------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
request_logger = logging.getLogger("langlearn.request")
QUIET_PATHS = frozenset({"/healthz"})


class RequestIdMiddleware:
    """Give each request an id, log one line per request, echo the id back.

    A sane ``X-Request-ID`` from the caller (a proxy, a load balancer) is kept so
    that its logs and ours line up; anything else is replaced by a fresh id. The
    line carries method, path (never the query string or the body), status,
    duration and user id. Health checks log at DEBUG to keep the logs readable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            with tracing.request_span(request.method or "", request.path, request.headers):
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            request_id_var.reset(token)

    def _log(self, request: HttpRequest, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        user = getattr(request, "user", None)
        level = logging.DEBUG if request.path in QUIET_PATHS and status == 200 else logging.INFO
        request_logger.log(
            level,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": str(user.pk) if user is not None and user.pk else None,
            },
        )
