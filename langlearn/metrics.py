"""What the web processes and the workers count, in the Prometheus format.

Every metric is defined here, once, with ``prometheus-client``; the code that
does the work counts it. Each process keeps its own values: a worker serves
them on its own port (``WORKER_METRICS_PORT``, ``worker.metrics``), the web
processes at ``GET /metrics`` (``operations.metrics``), where gunicorn's
several processes are summed by the client library's multi-process mode
(``PROMETHEUS_MULTIPROC_DIR``, set up by ``langlearn/gunicorn_config.py``).
The queue's own figures (jobs by status, the oldest waiting job) are read from
PostgreSQL when ``/metrics`` is scraped, not counted here.

Names and labels are listed in docs/operations.md ("Metrics").
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds: from a few milliseconds (a step of a stub) to the ten minutes a job
# may spend retrying its providers.
SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600)

# --- Jobs (the worker) ----------------------------------------------------------
JOB_SECONDS = Histogram(
    "langlearn_job_duration_seconds",
    "How long a job ran, by task and how the run ended (succeeded, retried, failed).",
    ["task", "outcome"],
    buckets=SECONDS,
)
JOB_RETRIES = Counter(
    "langlearn_job_retries_total",
    "Job runs that failed and were queued again for a later attempt.",
    ["task"],
)
JOB_FAILURES = Counter(
    "langlearn_job_failures_total",
    "Jobs that failed for good (a permanent error, or their attempts spent).",
    ["task"],
)
JOBS_RESCUED = Counter(
    "langlearn_jobs_rescued_total",
    "Jobs of dead workers queued again by the stalled-job rescue.",
)
STEP_SECONDS = Histogram(
    "langlearn_pipeline_step_duration_seconds",
    "How long a step of the entry pipeline took (its provider calls and retries within).",
    ["step"],
    buckets=SECONDS,
)

# --- Providers (the worker) -----------------------------------------------------
PROVIDER_CALLS = Counter(
    "langlearn_provider_calls_total",
    "Calls to a provider, by provider, step and outcome (ok, transient, permanent, "
    "rate_limited: a 429).",
    ["provider", "step", "outcome"],
)
PROVIDER_SECONDS = Histogram(
    "langlearn_provider_call_duration_seconds",
    "How long one provider call took, whatever its outcome.",
    ["provider", "step"],
    buckets=SECONDS,
)
LLM_TOKENS = Counter(
    "langlearn_llm_tokens_total",
    "Tokens the story generator and the digest writer were billed, input or output.",
    ["direction"],
)
TRANSLATED_CHARACTERS = Counter(
    "langlearn_translated_characters_total",
    "Characters the translator billed.",
)
VOICED_SECONDS = Counter(
    "langlearn_voiced_audio_seconds_total",
    "Seconds of audio the voice made.",
)
LEVEL_REASKS = Counter(
    "langlearn_level_reasks_total",
    "Passages the generator was asked to write once more, by language and reason "
    "(too hard, outside the learner's coverage, or both).",
    ["language", "reason"],
)

# --- Learners (the web processes) ----------------------------------------------
EVENT_STREAMS = Gauge(
    "langlearn_event_streams_open",
    "Status event streams open (GET /api/adventures/{id}/events).",
    multiprocess_mode="livesum",
)
BRANCHES = Counter(
    "langlearn_branches_total",
    "Branches generated ahead that a decision adopted or dropped.",
    ["outcome"],
)
