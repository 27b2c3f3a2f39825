"""Ports to the outside world: one package per external service.

Each package holds a small interface (``base``), a deterministic stub and,
where one exists, the real client. ``outbound.factory`` picks between them
from settings; nothing else in the project names a concrete client.
"""
