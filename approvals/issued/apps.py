from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IssuedConfig(AppConfig):
    """The bureau's issued documents (批复, 不动产权证书, 界址点成果表) as stored, versioned PDFs."""

    name = "approvals.issued"
    label = "issued"
    verbose_name = _("Issued documents")
