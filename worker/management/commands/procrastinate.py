"""``manage.py procrastinate``: Procrastinate's own command; for ``worker``,
the worker service of ``worker.service`` (Procrastinate's worker with the
stalled-job rescue beside it), and a warning when the worker leaves out the
rescue's queue.

It overrides Procrastinate's command the way Django documents ("Overriding
commands"): this app comes before ``procrastinate.contrib.django`` in
``INSTALLED_APPS``. Procrastinate's command opens the app and runs the
sub-command's function (``func``); for ``worker`` that function is ours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from procrastinate.contrib.django import app
from procrastinate.contrib.django.management.commands import procrastinate

from worker.service import run_worker, serves_maintenance

logger = logging.getLogger(__name__)


class Command(procrastinate.Command):
    def handle(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("command") == "worker":
            # ``--queues`` (absent unless given) wins over the settings' default.
            queues = kwargs["queues"] if "queues" in kwargs else app.worker_defaults.get("queues")
            warn_without_rescue(queues)
            kwargs["func"] = run_worker
        super().handle(*args, **kwargs)


def warn_without_rescue(queues: Iterable[str] | None) -> None:
    """Warn when a worker's queues leave out the stalled-job rescue's queue."""
    if serves_maintenance(queues):
        return
    assert queues is not None
    logger.warning(
        "this worker does not serve the %r queue (queues: %s): it does not rescue the jobs "
        "of killed workers, so unless another worker does, they stay 'doing' for good, and "
        "the entries behind them wait. Add %s to WORKER_QUEUES (or --queues).",
        settings.MAINTENANCE_QUEUE,
        ", ".join(queues),
        settings.MAINTENANCE_QUEUE,
    )
