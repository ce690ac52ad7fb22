"""Every UI string has a Chinese translation (Chinese is the default language)."""

import shutil
import subprocess
from pathlib import Path

import pytest

PO = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is installed by `make deps`")
def test_zh_hans_catalogue_is_complete():
    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)], capture_output=True, text=True, check=True)
    stats = result.stderr.strip()
    assert "translated messages" in stats
    assert "untranslated" not in stats, stats
    assert "fuzzy" not in stats, stats
