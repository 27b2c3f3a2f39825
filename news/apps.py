from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "news"
    verbose_name = "News"

    def ready(self) -> None:
        # As adventures.apps: on the real app, once procrastinate's app is ready.
        from procrastinate.contrib.django import procrastinate_app

        from . import tasks

        tasks.configure_app(procrastinate_app.current_app)
