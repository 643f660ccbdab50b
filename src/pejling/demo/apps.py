from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organisation and its ``pejling demo`` command. No models."""

    name = "pejling.demo"
    label = "demo"
