from django.apps import AppConfig


class PackagesConfig(AppConfig):
    """Portable strategy packages: ``pejling dump`` and ``pejling load`` (no models)."""

    name = "pejling.packages"
    label = "packages"
    verbose_name = "Strategy packages"
