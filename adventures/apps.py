from django.apps import AppConfig


class AdventuresConfig(AppConfig):
    name = "adventures"
    verbose_name = "Adventures"

    def ready(self) -> None:
        # After procrastinate.contrib.django's ready() (it comes first in
        # INSTALLED_APPS), so current_app is the real app, not its blueprint
        # (nor the proxy, which would keep attributes set on it to itself).
        from procrastinate.contrib.django import procrastinate_app

        from . import tasks

        tasks.configure_app(procrastinate_app.current_app)
