from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "pejling.core"
    label = "core"
