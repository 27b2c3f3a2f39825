from django.apps import AppConfig


class AdventuresConfig(AppConfig):
    name = "adventures"
    verbose_name = "Adventures"
