"""The suite on several processes (pytest-xdist, ``-n 2 --dist loadfile``, as
``python3 run.py test`` runs it): each process has a database of its own (see
``database``), and gets whole files, in the order pytest-django gave them.

That order matters. pytest-django runs the tests in one transaction (``db``)
before those that commit (``transactional_db``), as Django's own runner does:
the latter end by emptying every table, rows made by data migrations included
(the "Staff" group), and the former count on those rows. xdist's ``loadfile``
hands out files biggest first, so a process could run a file of ``db`` tests
after one that emptied its database. Here a file is one unit of work per part
of that order (most files have one part; a file with tests of both kinds, two),
and units go out in the order pytest-django sorted them: on each process every
``db`` test runs before any ``transactional_db`` one.
"""

from __future__ import annotations

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling


class FilesInDatabaseOrder(LoadScopeScheduling):
    def __init__(self, config: pytest.Config, log: Producer | None = None) -> None:
        super().__init__(config, log)
        self._unit_of: dict[str, str] = {}

    def schedule(self) -> None:
        if self.collection is None and self.registered_collections:
            collection = next(iter(self.registered_collections.values()))
            parts: dict[str, int] = {}
            previous = None
            for nodeid in collection:
                path = nodeid.split("::", 1)[0]
                if path != previous:  # a file's tests are contiguous in each part
                    parts[path] = parts.get(path, 0) + 1
                    previous = path
                self._unit_of[nodeid] = f"{path}#{parts[path]}"
        super().schedule()

    def _split_scope(self, nodeid: str) -> str:
        return self._unit_of[nodeid]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(
    config: pytest.Config, log: Producer
) -> FilesInDatabaseOrder | None:
    if config.getoption("dist") != "loadfile":
        return None
    # Units in collection order, not biggest first.
    config.option.loadscopereorder = False
    return FilesInDatabaseOrder(config, log)
