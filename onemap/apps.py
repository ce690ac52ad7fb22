"""The project's own app: registers the deployment checks (onemap/checks.py) and connects the
database-role signals (onemap/dbroles.py)."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_migrate


class OneMapConfig(AppConfig):
    name = "onemap"
    verbose_name = "OneMap"

    def ready(self) -> None:
        from onemap import checks, dbroles  # noqa: F401  (importing checks registers them)

        pre_migrate.connect(dbroles.refuse_migrate_as_app, dispatch_uid="onemap.dbroles.refuse_migrate_as_app")
        post_migrate.connect(dbroles.grant_after_migrate, dispatch_uid="onemap.dbroles.grant_after_migrate")
