"""The sizing check: ``migrate`` (and ``check --database default``) warns when
the web processes' pools would not fit in the database server's connections."""

from __future__ import annotations

import pytest
from django.core import checks, management

from operations.checks import connections_fit

pytestmark = pytest.mark.django_db


def test_the_default_layout_fits():
    assert connections_fit(databases=["default"]) == []


def test_too_many_web_processes_for_the_server_are_named_with_the_sum(settings, capsys):
    settings.WEB_CONCURRENCY = 40
    settings.WEB_DB_POOL_SIZE = 5
    [warning] = connections_fit(databases=["default"])
    assert warning.level == checks.WARNING
    assert warning.id == "operations.W001"
    assert "may open 280 database connections" in warning.msg
    assert "WEB_CONCURRENCY=40" in warning.msg
    assert "Sizing" in warning.hint
    # What an operator sees: the warning from the command, which still succeeds.
    management.call_command("check", "--database", "default")
    assert "operations.W001" in capsys.readouterr().err


def test_without_a_database_to_ask_it_checks_nothing(settings):
    settings.WEB_CONCURRENCY = 40
    assert connections_fit(databases=None) == []
