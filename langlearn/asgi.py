"""The web server's entry point (``run.py serve``, ``compose/start-api``):
``gunicorn langlearn.asgi -k langlearn.asgi_worker.UvicornWorker``.

Sync views run as before (in threads); the events stream
(``adventures.live``) is async and holds no thread while it waits.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langlearn.settings")
# Settings read this: database connections come from a pool under ASGI.
os.environ.setdefault("LANGLEARN_SERVER", "asgi")
application = get_asgi_application()
