from .browser import browser, reader_server

__all__ = ["browser", "reader_server"]
