"""Operator and staff tooling in one place: the job-queue figures, the admin's
pipeline overview page and every ``manage.py`` command of ours (queue status,
re-running failed entries, provisioning accounts, the embedded PostgreSQL)."""
