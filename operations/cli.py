"""Helpers shared by our management commands."""

from __future__ import annotations

import argparse
import json
import re
from datetime import timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(raw: str) -> timedelta:
    """Parse ``30s``, ``30m``, ``2h`` or ``1d``; an argparse ``type``."""
    match = _DURATION.match(raw)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is not a duration; use a whole number and a unit: 30s, 30m, 2h or 1d"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def human_age(delta: timedelta) -> str:
    """``3d 4h``, ``2h 5m``, ``4m 10s`` or ``12s``: precise enough for a glance."""
    seconds = int(delta.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {seconds}s"
    return f"{seconds}s"


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=str)
