"""One module per section of ``python -m bench``, each a ``measure`` (or
``play``) the runner calls and the figures it returns: ``dispatch``, ``api``,
``floors``, ``pipeline``, ``throughput`` (with ``memory``), ``scaleout``,
``live`` and ``instant``. Each drives the product through its public surfaces
(HTTP, the task the worker runs, the pipeline's entry point) and reads back
what the product records (its rows, timestamps and job events)."""
