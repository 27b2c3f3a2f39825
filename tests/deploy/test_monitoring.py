"""The monitoring profile of the prod stack (compose/): Prometheus with the
alert rules, Grafana with the dashboard. ``promtool`` (Debian's ``prometheus``
package; ``.ci/run`` installs it where missing) checks the rules and runs
their unit tests (``compose/prometheus/alerts.test.yml``)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.test_compose import COMPOSE, PROD_SECRETS, compose_config

PROMETHEUS = COMPOSE / "prometheus"
DASHBOARD = COMPOSE / "grafana" / "dashboards" / "langlearn.json"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail(
            "promtool not found: install Debian's prometheus package "
            "(apt-get install prometheus), as python3 run.py test does as root"
        )
    return subprocess.run([tool, *args], cwd=COMPOSE, capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_the_alert_rules_are_valid_and_fire_when_they_should():
    checked = promtool("check", "rules", "prometheus/alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "prometheus/alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    config = promtool("check", "config", "--syntax-only", "prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_every_alert_has_its_entry_in_the_operations_manual():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    manual = (COMPOSE.parent / "docs" / "operations.md").read_text()
    for rule in rules:
        assert f"`{rule['alert']}`" in manual, rule["alert"]
        assert rule["labels"]["severity"] in {"page", "ticket"}


@pytest.mark.django_db
def test_the_dashboard_and_alerts_name_only_metrics_that_exist(client, settings):
    settings.METRICS_TOKEN = "token"
    text = client.get("/metrics", HTTP_AUTHORIZATION="Bearer token").content.decode()
    exposed = {"up"}
    for family in text_string_to_metric_families(text):
        suffixes = {
            "histogram": ("_bucket", "_count", "_sum"),
            "counter": ("_total",),
        }.get(family.type, ("",))
        exposed.update(family.name + suffix for suffix in suffixes)
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"][0]["rules"]
    expressions += [rule["expr"] for rule in rules]
    named = {
        name
        for expression in expressions
        for name in re.findall(r"\b(langlearn_[a-z_]+|up)\b(?=\s*[{\[)]|\s*$|\s)", expression)
    }
    assert named, expressions
    assert named <= exposed, named - exposed
    assert {"langlearn_jobs", "langlearn_provider_calls_total"} <= named


@pytest.mark.slow
def test_the_monitoring_profile_scrapes_the_api_and_every_worker_privately():
    plain = json.loads(compose_config("prod", **PROD_SECRETS).stdout)
    assert {"prometheus", "grafana"}.isdisjoint(plain["services"])  # only with the profile

    result = compose_config(
        "prod", **PROD_SECRETS, METRICS_TOKEN="scrape-me", COMPOSE_PROFILES="monitoring"
    )
    assert result.returncode == 0, result.stderr
    stack = json.loads(result.stdout)
    services = stack["services"]
    assert services["api"]["environment"]["METRICS_TOKEN"] == "scrape-me"
    worker = services["worker"]["environment"]
    # Prometheus reads the token from the secret, and finds workers on their port.
    assert stack["secrets"]["metrics-token"]["environment"] == "METRICS_TOKEN"
    assert services["prometheus"]["secrets"][0]["source"] == "metrics-token"
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["langlearn-api"]["authorization"]["credentials_file"] == (
        "/run/secrets/metrics-token"
    )
    assert jobs["langlearn-worker"]["dns_sd_configs"][0]["port"] == int(
        worker["WORKER_METRICS_PORT"]
    )
    # Nothing of it is public: Prometheus and Grafana on the loopback only,
    # the workers' metrics port not published at all.
    for name in ("prometheus", "grafana"):
        assert [port["host_ip"] for port in services[name]["ports"]] == ["127.0.0.1"]
    assert "ports" not in services["worker"]
    # Grafana is provisioned with the datasource and the dashboard.
    mounted = {volume["target"]: volume.get("source") for volume in services["grafana"]["volumes"]}
    assert mounted["/var/lib/grafana/dashboards"] == str(COMPOSE / "grafana" / "dashboards")
    assert mounted["/etc/grafana/provisioning"] == str(COMPOSE / "grafana" / "provisioning")
