"""``manage.py procrastinate``: Procrastinate's own command, and for ``worker``
a warning when the worker leaves out the stalled-job rescue's queue.

It overrides Procrastinate's command the way Django documents ("Overriding
commands"): this app comes before ``procrastinate.contrib.django`` in
``INSTALLED_APPS``. Procrastinate has no hook that runs when a worker starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from procrastinate.contrib.django import app
from procrastinate.contrib.django.management.commands import procrastinate

logger = logging.getLogger(__name__)


class Command(procrastinate.Command):
    def handle(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("command") == "worker":
            # ``--queues`` (absent unless given) wins over the settings' default.
            queues = kwargs["queues"] if "queues" in kwargs else app.worker_defaults.get("queues")
            warn_without_rescue(queues)
        super().handle(*args, **kwargs)


def warn_without_rescue(queues: Iterable[str] | None) -> None:
    """Warn when a worker's queues leave out the stalled-job rescue's queue."""
    if queues is None or settings.MAINTENANCE_QUEUE in queues:
        return  # None: every queue
    logger.warning(
        "this worker does not serve the %r queue (queues: %s): unless another worker "
        "does, jobs of killed workers stay 'doing' for good, and the entries behind them "
        "wait. Add %s to WORKER_QUEUES (or --queues).",
        settings.MAINTENANCE_QUEUE,
        ", ".join(queues),
        settings.MAINTENANCE_QUEUE,
    )
