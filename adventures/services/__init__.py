"""Use cases of adventures and their entries: the only code that writes them.

- ``lifecycle``: every status change of an entry or adventure, and queuing an
  entry's pipeline job in the same transaction;
- ``stories``: what learners and staff do (start, choose, retry, re-run);
- ``results``: what each pipeline step found, stored on the entry;
- ``branches``: entries generated ahead of a decision (adopt, drop, cap);
- ``deletion``: deleting stories (by their learner, with their account, by
  staff), and ``files``: their audio files removed after the rows.
"""

from .branches import (
    branch_discard,
    branch_dropped,
    branches_create,
    branches_discard,
    branches_resolve,
    branches_settle,
    branches_started_today,
    entry_jobs_cancel,
)
from .deletion import adventure_delete, adventures_delete
from .files import audio_files_remove, audio_files_remove_on_commit
from .lifecycle import (
    LEARNER_ERROR_MESSAGE,
    EntryGone,
    adventure_status_after,
    defer_entry_job,
    entry_complete,
    entry_create,
    entry_events_prune,
    entry_fail,
    entry_queue,
    entry_start,
)
from .results import (
    entry_record_audio,
    entry_record_generation,
    entry_record_tokens,
    entry_record_translation,
)
from .stories import (
    RerunResult,
    adventure_create,
    check_languages,
    decision_record,
    entries_rerun,
    entry_retry,
)

__all__ = [
    "LEARNER_ERROR_MESSAGE",
    "EntryGone",
    "RerunResult",
    "adventure_create",
    "adventure_delete",
    "adventure_status_after",
    "adventures_delete",
    "audio_files_remove",
    "audio_files_remove_on_commit",
    "branch_discard",
    "branch_dropped",
    "branches_create",
    "branches_discard",
    "branches_resolve",
    "branches_settle",
    "branches_started_today",
    "check_languages",
    "decision_record",
    "defer_entry_job",
    "entries_rerun",
    "entry_complete",
    "entry_create",
    "entry_events_prune",
    "entry_fail",
    "entry_jobs_cancel",
    "entry_queue",
    "entry_record_audio",
    "entry_record_generation",
    "entry_record_tokens",
    "entry_record_translation",
    "entry_retry",
    "entry_start",
]
