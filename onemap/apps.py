from django.apps import AppConfig


class OneMapConfig(AppConfig):
    """The project package as an app, so that its deployment checks (onemap/checks.py) register."""

    name = "onemap"
    verbose_name = "OneMap"

    def ready(self) -> None:
        from onemap import checks  # noqa: F401  (registers the checks)
