"""``migrate`` builds both schemas on an empty database; models match migrations."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg
import pytest
from django.db import connection

from tests.support.processes import ROOT, subprocess_env

pytestmark = pytest.mark.slow


def test_makemigrations_finds_nothing_to_do(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


@pytest.mark.django_db
def test_migrate_on_an_empty_database_creates_both_schemas(tmp_path):
    name = f"langlearn_empty_{uuid.uuid4().hex[:8]}"
    params = {k: v for k, v in connection.get_connection_params().items() if k != "dbname"}
    params.pop("context", None)
    params.pop("cursor_factory", None)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=ROOT,
            env=subprocess_env(tmp_path, DATABASE_NAME=name),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        with psycopg.connect(dbname=name, **params) as conn:
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            }
            functions = {
                row[0]
                for row in conn.execute(
                    "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%'"
                )
            }
        assert {
            "adventures_adventure",
            "adventures_entry",
            "adventures_choice",
            "adventures_decision",
            "adventures_sentence",
            "adventures_token",
            "adventures_audio",
            "accounts_user",
            "langlearn_cache",
        } <= tables
        assert {"procrastinate_jobs", "procrastinate_events", "procrastinate_workers"} <= tables
        assert "procrastinate_defer_jobs_v1" in functions
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
