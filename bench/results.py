"""The machine a run was on."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        # The load while the run ended (1, 5, 15 minutes): the machine
        # may be shared, and its other work weighs on every figure.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python_version": platform.python_version(),
    }
