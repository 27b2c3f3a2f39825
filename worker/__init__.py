"""The worker's toolkit, which no app owns: what every pipeline run on the
Procrastinate worker needs, whatever it builds (an adventure's entry, a news
digest).

- ``orm``: ``db``, the hop from the worker's event loop to the ORM's thread;
- ``providers``: ``call_provider`` (retries and the fleet-wide budgets of
  ``ratelimits``) and the provider roles asked on plain data (translate,
  annotate, voice and store);
- ``steps``: a pipeline's independent steps run side by side;
- ``locks``: PostgreSQL advisory locks, held by one session per process;
- ``retry``: the jobs' retry strategy;
- ``setup``: the worker's set-up, wired by ``PROCRASTINATE_ON_APP_READY``;
- ``tasks``: the stalled-job rescue.

Apps import it; it imports no app.
"""
