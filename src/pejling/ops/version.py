from importlib.metadata import PackageNotFoundError, version


def app_version() -> str:
    """Pejling's installed version."""
    try:
        return version("pejling")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "unknown"
