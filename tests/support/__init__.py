"""What the tests share. ``tests/conftest.py`` loads the modules that hold
fixtures and hooks as pytest plugins; tests import helpers from here, never
from a conftest.

- ``network``: no test reaches beyond this machine (autouse).
- ``database``: the embedded PostgreSQL stopped again if the run started it;
  ``truncate_jobs``.
- ``isolation``: stub providers, audio in a temporary folder, a clean cache
  (autouse).
- ``shortcuts``: a fast password hasher, spaCy's tables read once (autouse).
- ``api``: ``client_for`` and the ``learner``, ``api`` and ``anonymous`` fixtures.
- ``factories``: rows built directly, for tests about what reads them.
- ``processes``: child processes of a test (``Process``, ``subprocess_env``)
  and ``wait_for``.
- ``worker``: the real worker process (``start_worker``) and
  ``poll_entry_complete``.
- ``markers``: the ``slow`` marker (``python3 run.py test --fast`` leaves
  those tests out).
- ``pipeline``: the pipeline run in this process; ``fakes``: local fakes of
  the providers' HTTP APIs.
"""
