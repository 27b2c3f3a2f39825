"""What the tests share. ``tests/conftest.py`` loads the modules that hold
fixtures and hooks as pytest plugins; tests import helpers from here, never
from a conftest.

- ``network``: no test reaches beyond this machine (autouse).
- ``database``: the embedded PostgreSQL stopped again if the run started it
  (once, by pytest-xdist's controller); ``truncate_jobs``.
- ``isolation``: stub providers, audio in a temporary folder, a clean cache
  (autouse).
- ``shortcuts``: a fast password hasher, static files looked up only when
  asked for, spaCy's tables read once (autouse); ``fast_hasher_settings``:
  the project's settings with that hasher, for a server a test starts;
  ``probe_hasher_settings``: the project's hasher refusing to run while a
  connection is held (``probe_hasher``).
- ``api``: ``client_for`` and the ``learner``, ``api`` and ``anonymous`` fixtures.
- ``factories``: rows built directly, for tests about what reads them.
- ``processes``: child processes of a test (``Process``, ``subprocess_env``,
  ``WebServer``: gunicorn as it runs everywhere) and ``wait_for``.
- ``worker``: the real worker process (``start_worker``) and
  ``poll_entry_complete``.
- ``markers``: the ``slow`` marker (``python3 run.py test --fast`` leaves
  those tests out).
- ``parallel``: the suite on several processes (pytest-xdist), whole files
  in pytest-django's order.
- ``pipeline``: the pipeline run in this process; ``fakes``: local fakes of
  the providers' HTTP APIs.
"""
