"""The suite's shared fixtures and hooks live in ``tests/support/``."""

pytest_plugins = [
    "tests.support.network",
    "tests.support.database",
    "tests.support.isolation",
    "tests.support.shortcuts",
    "tests.support.api",
    "tests.support.worker",
    "tests.support.markers",
    "tests.support.parallel",
    "tests.support.fakes.s3",
]
