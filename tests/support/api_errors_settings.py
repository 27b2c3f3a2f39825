"""The project's settings with tests/support/api_errors_urls.py as the URLs, for a real
web server that has a view answering 500 (tests/langlearn/test_api_errors.py)."""

from langlearn.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.api_errors_urls"
