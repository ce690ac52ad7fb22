from django.apps import AppConfig


class DemoDataConfig(AppConfig):
    """The demo one-map for Jiayu County: its files, generator and loader commands."""

    name = "data"
    label = "demo_data"
    verbose_name = "Demo data"
