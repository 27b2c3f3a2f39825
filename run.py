#!/usr/bin/env python3
"""Set up the checkout and run langlearn: ``python3 run.py serve`` or ``test``.

Standard library only, so it runs on a machine that has nothing but Python 3.11+.
It creates ``.venv`` beside this file, installs the dependencies declared in
``pyproject.toml`` (again only when that file changes), and then:

- ``serve``: applies migrations and runs the web server and the Procrastinate
  worker in the foreground, on the embedded PostgreSQL unless ``DATABASE_URL``
  is set, with ``DEBUG`` on unless set. Ctrl-C stops both.
- ``test``: runs ``ruff check``, ``ruff format --check``, the import contract
  (``lint-imports``) and the docs build (``mkdocs build --strict``), then
  ``mypy`` beside the pytest suite, which runs on two processes (extra
  arguments go to pytest; ``-n 0`` runs it on one). ``test --fast`` leaves out
  the tests marked ``slow`` (those that start the worker or other child
  processes).
- ``setup``: only installs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".langlearn-installed"

if sys.version_info < (3, 11):  # noqa: UP036 - run.py may be started by an older python3
    sys.exit("langlearn needs Python 3.11 or newer.")


def _requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["dev"]]


def setup() -> None:
    """Create the virtualenv and install what pyproject.toml declares, once;
    and, where node is, the npm tools the tests run on the schema."""
    _setup_python()
    _setup_node()


def _setup_node() -> None:
    """``npm ci`` in tests/support/typescript (openapi-typescript, tsc), again
    only when its lock file changes; nothing without npm (the test that needs
    them says so)."""
    folder = ROOT / "tests" / "support" / "typescript"
    lock, stamp = folder / "package-lock.json", folder / "node_modules" / ".langlearn-installed"
    npm = shutil.which("npm")
    if npm is None or not lock.exists():
        return
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    print("-> installing the npm tools in tests/support/typescript", flush=True)
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder
    )
    if installed.returncode:
        # Only a test needs them: serving goes on; that test fails, naming them.
        print("-> npm ci failed: the TypeScript schema check cannot run", flush=True)
        return
    stamp.write_text(digest)


# Debian packages some tests drive, by the command each provides: Playwright
# drives chromium (no browser can be downloaded), and promtool checks the
# alert rules.
SYSTEM_TOOLS = {"chromium": "chromium", "promtool": "prometheus"}


def _setup_system_tools() -> None:
    """Install the Debian packages of ``SYSTEM_TOOLS`` that are missing, when
    this runs as root on a Debian machine, as CI does; anywhere else the tests
    that need them say what is missing (and fail under CI)."""
    missing = [package for tool, package in SYSTEM_TOOLS.items() if not shutil.which(tool)]
    if not missing or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print(f"-> installing {', '.join(missing)} (Debian) for the tests that drive them", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for step in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", *missing],
    ):
        if subprocess.run(step, env=env, stdout=subprocess.DEVNULL).returncode:
            print("-> could not install them: the tests that need them say so", flush=True)
            return


def _setup_python() -> None:
    requirements = _requirements()
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    if not PYTHON.exists():
        print(f"-> creating virtualenv in {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("-> installing dependencies (first run takes a minute or two)", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    # The project itself is not installed: it runs from the checkout, so one
    # virtualenv serves every worktree of it.
    subprocess.run([*pip, "install", *requirements], check=True)
    STAMP.write_text(digest)


def _manage(*args: str) -> None:
    subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, check=True)


class Supervised:
    """A child process that is started again when it dies on its own.

    The Procrastinate worker exits when it loses PostgreSQL for long (its side
    tasks give up); restarting it, with a growing pause, is the run command's
    job here, as it is compose's restart policy in a container.
    """

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name, self.argv = name, argv
        self.process = _spawn(argv)
        self.restarts = 0
        self.next_start = 0.0

    def check(self, stopping: bool) -> None:
        code = self.process.poll()
        if code is None or stopping:
            return
        now = time.monotonic()
        if not self.next_start:
            pause = min(30, 2**self.restarts)
            print(f"-> {self.name} exited with code {code}; restarting in {pause}s", flush=True)
            self.next_start = now + pause
        elif now >= self.next_start:
            self.restarts += 1
            self.next_start = 0.0
            self.process = _spawn(self.argv)


def _spawn(argv: list[str]) -> subprocess.Popen:
    # A session of its own: a terminal's Ctrl-C (SIGINT to the whole
    # foreground process group) reaches run.py only, which then sends each
    # child exactly one SIGTERM, its graceful stop. A child that got both
    # signals would take the second as "stop now" and abandon its jobs.
    return subprocess.Popen(argv, cwd=ROOT, start_new_session=True)


def _port_problem(host: str, port: str) -> str | None:
    """Why gunicorn could not listen on ``host:port``, or None if it can."""
    try:
        number = int(port)
    except ValueError:
        return f"PORT must be a number, not {port!r}."
    try:
        infos = socket.getaddrinfo(host or None, number, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"HOST {host!r} is not an address of this machine ({exc}); set HOST."
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As gunicorn binds: SO_REUSEADDR, so a port in TIME_WAIT is no problem.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return (
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another program "
                f"(another `run.py serve`?) may be using the port: set PORT to another one "
                f"(e.g. PORT={number + 1} python3 run.py serve), or HOST to another address."
            )
    return None


def _serve_pid_file() -> Path:
    """Where ``serve`` notes its pid while it runs; ``embedded_db stop`` reads it."""
    data_dir = os.environ.get("LANGLEARN_DATA_DIR") or str(ROOT / ".data")
    return Path(data_dir) / "serve.pid"


def serve() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    problem = _port_problem(host, port)
    if problem:
        print(f"-> {problem}", file=sys.stderr, flush=True)
        return 1
    # Local development: debug pages on, unless the caller said otherwise (the
    # settings' own default is off, so a server started any other way without
    # configuration shows none).
    os.environ.setdefault("DEBUG", "true")
    _manage("migrate", "--no-input")
    _manage("collectstatic", "--no-input", "-v", "0")
    pid_file = _serve_pid_file()
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(str(os.getpid()))
    try:
        return _run(host, port)
    finally:
        pid_file.unlink(missing_ok=True)


def _run(host: str, port: str) -> int:
    web = _spawn(
        [
            str(BIN / "gunicorn"),
            # ASGI: uvicorn workers; sync views run in threads, the
            # events stream is async.
            "langlearn.asgi",
            "--worker-class",
            "langlearn.asgi_worker.UvicornWorker",
            "--bind",
            f"{host}:{port}",
            "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"),
            # Should GUNICORN_CMD_ARGS turn the access log on: no secrets in it.
            "--logger-class",
            "langlearn.access_log.RedactingLogger",
            # The processes' metrics summed (prometheus-client's multi-process mode).
            "--config",
            "python:langlearn.gunicorn_config",
        ]
    )
    worker = Supervised("worker", [str(PYTHON), "manage.py", "procrastinate", "worker"])
    base = f"http://{host}:{port}"
    print(
        f"""
langlearn is running (web pid {web.pid}, worker pid {worker.process.pid}).
  Reader:    {base}/
  API docs:  {base}/api/docs/
  Admin:     {base}/admin/
             (make a staff account: .venv/bin/python manage.py create_learner --staff ...)
  Get a token:
    curl -s -X POST {base}/api/auth/register -H 'Content-Type: application/json' \\
         -d '{{"username": "ana", "password": "a-long-passphrase"}}'
    curl -s -X POST {base}/api/auth/token -H 'Content-Type: application/json' \\
         -d '{{"username": "ana", "password": "a-long-passphrase"}}'
Press Ctrl-C to stop (running jobs finish first; Ctrl-C again to stop at once).
""",
        flush=True,
    )
    signals = 0

    def say(line: str) -> None:
        # Not print(): a signal handler must not re-enter a buffered write.
        os.write(sys.stdout.fileno(), f"{line}\n".encode())

    def stop(*_: object) -> None:
        nonlocal signals
        signals += 1
        children = [web, worker.process]
        if signals == 1:
            say("-> stopping: running jobs finish or go back to the queue")
            for child in children:
                if child.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child.pid, signal.SIGTERM)
        elif signals == 2:
            say("-> stopping at once")
            for child in children:
                # Each child leads a process group of its own: gunicorn's
                # workers go with their master.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child.pid, signal.SIGKILL)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not signals and web.poll() is None:
        worker.check(stopping=False)
        time.sleep(0.2)
    if not signals:  # the web server died on its own: stop the worker too
        stop()
    # The worker gives running jobs WORKER_SHUTDOWN_TIMEOUT seconds; a second
    # Ctrl-C (or SIGTERM) kills what is left. Poll rather than block in wait():
    # a signal landing just before a blocking waitpid() would only be handled
    # once it returns.
    while web.poll() is None or worker.process.poll() is None:
        time.sleep(0.1)
    print("-> stopped", flush=True)
    return 0 if web.returncode in (0, -signal.SIGTERM) and signals < 2 else 1


def test(pytest_args: list[str]) -> int:
    _setup_system_tools()
    if "--fast" in pytest_args:
        pytest_args = ["-m", "not slow", *(a for a in pytest_args if a != "--fast")]
    checks = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        # The layers (pyproject.toml's import contract): an import that runs
        # back up fails.
        [str(BIN / "lint-imports")],
        # The manual (mkdocs.yml, docs/): a broken link or anchor fails the
        # build; the site goes to the git-ignored .site/. Not --quiet: it
        # hides the warnings that --strict counts, and the build then passes.
        [str(BIN / "mkdocs"), "build", "--strict"],
    ]
    mypy = [
        str(BIN / "mypy"),
        "accounts",
        "adventures",
        "langlearn",
        "news",
        "operations",
        "outbound",
        "reader",
        "vocabulary",
        "worker",
        "tests",
        "run.py",
    ]
    # Two processes, a database each, whole files in pytest-django's order
    # (tests/support/parallel.py); arguments after these win (-n 0: one process).
    pytest = [str(PYTHON), "-m", "pytest", "-n", "2", "--dist", "loadfile", *pytest_args]
    for step in checks:
        _announce(step)
        code = subprocess.run(step, cwd=ROOT).returncode
        if code:
            return code
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", ""):
        # Without bytecode caches every test process (and every worker or
        # command a slow test starts) compiles the project from source again:
        # two seconds of CPU apiece. Cache it in .venv/pycache instead, which
        # keeps the checkout free of __pycache__ folders all the same.
        env["PYTHONPYCACHEPREFIX"] = str(VENV / "pycache")
    # mypy (most of a minute without its cache, as on a fresh checkout) runs
    # beside the suite, which waits on its child processes much of the time;
    # its report follows the suite's.
    _announce(mypy, "(beside pytest; its report follows)")
    with tempfile.TemporaryFile() as report:
        checker = subprocess.Popen(mypy, cwd=ROOT, stdout=report, stderr=subprocess.STDOUT)
        try:
            _announce(pytest)
            tests = subprocess.run(pytest, cwd=ROOT, env=env).returncode
            checked = checker.wait()
        finally:
            if checker.poll() is None:
                checker.kill()
                checker.wait()
        report.seek(0)
        print("-> mypy:", flush=True)
        sys.stdout.buffer.write(report.read())
        sys.stdout.flush()
    return checked or tests


def _announce(step: list[str], note: str = "") -> None:
    words = [Path(step[0]).name, *step[1:], *([note] if note else [])]
    print("->", " ".join(words), flush=True)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in {"serve", "test", "setup"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    setup()
    if command == "serve":
        return serve()
    if command == "test":
        return test(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
