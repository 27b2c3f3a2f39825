"""Small typed readers for settings that come from the environment.

Every reader fails loudly (ImproperlyConfigured) on a value it cannot parse,
naming the variable, instead of falling back silently.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"0", "false", "no", "off", "n", "f", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE``; '' if unset."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
    return os.environ.get(name, "")


def parse_latencies(raw: str, steps: tuple[str, ...]) -> dict[str, int]:
    """Parse ``STUB_LATENCY_MS`` (``generate=800,translate=150``) into ms per step."""
    latencies = dict.fromkeys(steps, 0)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        step, sep, value = item.partition("=")
        step = step.strip()
        if not sep or step not in latencies:
            raise ImproperlyConfigured(
                f"STUB_LATENCY_MS: expected step=milliseconds with step one of "
                f"{', '.join(steps)}; got {item!r}"
            )
        try:
            latencies[step] = int(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"STUB_LATENCY_MS: {step} must be whole milliseconds, not {value!r}"
            ) from None
        if latencies[step] < 0:
            raise ImproperlyConfigured(f"STUB_LATENCY_MS: {step} must not be negative")
    return latencies


def parse_faults(raw: str, steps: tuple[str, ...]) -> dict[str, tuple[int, bool]]:
    """Parse ``STUB_FAULTS`` (``translate=2,generate=1:permanent``).

    Returns ``{step: (failing calls, transient)}`` for the steps named.
    """
    faults: dict[str, tuple[int, bool]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        step, sep, value = item.partition("=")
        count, _, kind = value.partition(":")
        step, kind = step.strip(), (kind.strip() or "transient")
        if not sep or step not in steps or kind not in {"transient", "permanent"}:
            raise ImproperlyConfigured(
                f"STUB_FAULTS: expected step=count[:transient|permanent] with step one of "
                f"{', '.join(steps)}; got {item!r}"
            )
        try:
            faults[step] = (int(count), kind == "transient")
        except ValueError:
            raise ImproperlyConfigured(f"STUB_FAULTS: {step} needs a whole count") from None
    return faults
