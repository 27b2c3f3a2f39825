"""Settings of the benchmark's no-deferral web server (``python -m bench``: api).

The production settings, plus a Procrastinate hook that puts a connector keeping
no job behind ``defer`` (``bench.nodefer``). Entries created under these settings
are never generated: only the benchmark uses them, on its throw-away database.
"""

from langlearn.settings import *  # noqa: F403

PROCRASTINATE_ON_APP_READY = "bench.nodefer.discard_deferred_jobs"
