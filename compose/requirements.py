#!/usr/bin/env python3
"""Print the requirements that pyproject.toml declares, one per line.

``python compose/requirements.py [EXTRA ...]`` prints ``[project].dependencies``
plus the named optional groups (``dev`` for the development image). The image
installs exactly this list, the same one ``run.py`` installs, so a dependency
is declared once. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def requirements(extras: list[str], pyproject: Path = PYPROJECT) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    unknown = [extra for extra in extras if extra not in optional]
    if unknown:
        raise SystemExit(
            f"unknown optional dependency group(s): {', '.join(unknown)}; "
            f"pyproject.toml has: {', '.join(sorted(optional)) or 'none'}"
        )
    return [*project["dependencies"], *(req for extra in extras for req in optional[extra])]


if __name__ == "__main__":
    # Extras may come as separate arguments or as one comma-separated build arg.
    names = [name.strip() for arg in sys.argv[1:] for name in arg.split(",") if name.strip()]
    print("\n".join(requirements(names)))
