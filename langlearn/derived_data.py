"""Language data derived from installed packages, kept on disk between processes.

Some language data is slow to derive but depends only on the installed
packages' data and on our code: the lemma frequencies (``langlearn.levels``)
lemmatise wordfreq's 30,000 most frequent forms of a language with simplemma,
one to four seconds a language. Each process (a worker, each test process, a
bench run) would pay that again; ``cached`` derives it once per machine and
every later process reads it back in milliseconds.

A value is stored under a digest of everything it is derived from (the code
that derives it, its parameters, and each package's installed files, by the
hashes their wheels record), so that a change to any of them derives it anew
rather than reading a stale value. Writers write a temporary file and rename
it into place: two processes deriving the same value at once each write a
whole file, and a reader sees a whole file or none. A file that cannot be read
or parsed is derived again; a folder that cannot be written is no error (the
value is derived in each process, as without the cache).

The folder is the ``DERIVED_DATA_DIR`` setting (by default ``cache/`` in the
data folder); empty turns the cache off. Without Django settings (a script that
configures none), nothing is cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Bumped when the way values are stored changes.
FORMAT = 1
# Values no process has used for this long (of packages or code since replaced)
# are removed when another value of the same name is written.
STALE_AFTER = 30 * 24 * 3600


def folder() -> Path | None:
    from django.conf import settings

    if not settings.configured:
        return None
    configured = getattr(settings, "DERIVED_DATA_DIR", "")
    return Path(configured) if configured else None


def package_files(distribution: str) -> str:
    """What identifies a package's installed files: its name, version and the
    hash of each file its wheel installed (its ``RECORD``)."""
    dist = metadata.distribution(distribution)
    return f"{distribution} {dist.version}\n{dist.read_text('RECORD') or ''}"


def digest(inputs: Iterable[object]) -> str:
    """A digest of ``inputs``: strings, bytes, or anything with a stable ``repr``."""
    hashed = hashlib.sha256(f"format {FORMAT}\0".encode())
    for part in inputs:
        data = part if isinstance(part, bytes) else str(part).encode()
        hashed.update(len(data).to_bytes(8, "big"))
        hashed.update(data)
    return hashed.hexdigest()[:24]


def cached(name: str, inputs: Iterable[object], derive: Callable[[], Any]) -> Any:
    """``derive()``, a JSON value, read back from the cache when it holds the
    value for these ``inputs`` (see the module docstring); written there when not."""
    where = folder()
    if where is None:
        return derive()
    key = digest(inputs)
    path = where / f"{name}-{key}.json"
    try:
        with path.open(encoding="utf-8") as stored:
            value = json.load(stored)
        with contextlib.suppress(OSError):
            os.utime(path)  # in use: not stale
        return value
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        logger.warning("derived data %s unreadable (%s): deriving it again", path, exc)
    value = derive()
    _write(where, name, path, value)
    return value


def _write(where: Path, name: str, path: Path, value: Any) -> None:
    temporary = None
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=where, prefix=f".{path.stem}-", suffix=".tmp", delete=False
        ) as out:
            temporary = Path(out.name)
            json.dump(value, out, ensure_ascii=False, separators=(",", ":"))
        os.replace(temporary, path)
        temporary = None
    except OSError as exc:
        logger.info("derived data not kept in %s: %s", where, exc)
        return
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                temporary.unlink()
    _remove_stale(where, name, path)


def _remove_stale(where: Path, name: str, current: Path) -> None:
    """Remove the other values of ``name`` unused for ``STALE_AFTER``."""
    cutoff = time.time() - STALE_AFTER
    for other in where.glob(f"{name}-*.json"):
        if other == current or other.stem.rsplit("-", 1)[0] != name:
            continue
        with contextlib.suppress(OSError):
            if other.stat().st_mtime < cutoff:
                other.unlink()
