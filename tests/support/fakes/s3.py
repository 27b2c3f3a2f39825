"""S3 for the tests: a local moto_server (the ``moto_server`` fixture, one
per test module) with a bucket (``bucket``), and settings that point the
audio storage at it (``use_s3``), built by the real configuration code."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest
import requests

from tests.support.processes import ROOT, wait_for

BUCKET = "langlearn-audio"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- S3 via moto_server ------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_server(tmp_path_factory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return requests.get(f"{url}/moto-api/", timeout=1).status_code < 500
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=30, what="moto_server to answer")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def settings_for(monkeypatch, **env: str) -> dict:
    """Run langlearn/settings.py afresh with ``env``: the real configuration code."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "langlearn" / "settings.py"))


def use_s3(settings, monkeypatch, endpoint: str, bucket: str = BUCKET) -> None:
    configured = settings_for(
        monkeypatch,
        STORAGE_BACKEND="s3",
        STORAGE_BUCKET=bucket,
        STORAGE_ENDPOINT_URL=endpoint,
        STORAGE_ACCESS_KEY="testing",
        STORAGE_SECRET_KEY="testing",
        STORAGE_REGION="us-east-1",
        STORAGE_TIMEOUT="2",
    )
    settings.STORAGES = {**settings.STORAGES, "audio": configured["STORAGES"]["audio"]}


@pytest.fixture
def bucket(moto_server: str) -> str:
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET)
    return BUCKET
