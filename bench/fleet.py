"""Every process a run starts, so that it can stop them all, in order, however
the run ends."""

from __future__ import annotations

from pathlib import Path

from . import database
from .plan import log
from .processes import Child, free_port, start_web, start_worker


class Fleet:
    """Starts web servers and workers with the run's environment (plus
    ``extra``) and keeps them until stopped."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.children: list[Child] = []

    def start(self, kind: str, listening: int = 1, **extra: str) -> Child:
        """A ``web`` server (gunicorn, ready once it answers) or a ``worker``
        (ready once ``listening`` workers in all listen)."""
        env = self.env | extra
        log_file = self.workdir / f"{kind}-{len(self.children)}.log"
        if kind == "web":
            child = start_web(env, free_port(), log_file)
        else:
            child = start_worker(env, log_file, lambda: database.worker_listening(listening))
        self.children.append(child)
        return child

    def workers(self, count: int, **extra: str) -> list[Child]:
        return [self.start("worker", listening=index + 1, **extra) for index in range(count)]

    def adopt(self, child: Child) -> None:
        """A child started elsewhere (the live section's server), stopped with the rest."""
        self.children.append(child)

    def stop(self, *children: Child) -> None:
        for child in children:
            child.stop()
            self.children.remove(child)

    def show_logs(self) -> None:
        for child in self.children:
            log(f"last lines of the {child.name} log:\n{child.tail()}")

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
