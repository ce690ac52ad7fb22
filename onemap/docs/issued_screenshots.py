"""Renders page 1 of the demo's latest decision (审批决定书) and certificate (不动产权证书) PDFs to
onemap/docs/decision.png and onemap/docs/certificate.png for the README.

The PDFs are the stored, issued documents (approvals.issued), byte for byte: this script only
rasterises them with poppler's pdftoppm. Run it where the demo is loaded (`make run` or
`manage.py load_demo`), with the same database settings:

    .venv/bin/python onemap/docs/issued_screenshots.py [dpi]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"
sys.path.insert(0, str(OUT.parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onemap.settings")


def main(dpi: int = 110) -> None:
    import django

    django.setup()
    from approvals.issued.models import DocumentKind, IssuedDocument

    decision = (IssuedDocument.objects.filter(kind=DocumentKind.DECISION, application__status="approved",
                                              application__kind_id="construction_land").order_by("-created_at").first()
                or IssuedDocument.objects.filter(kind=DocumentKind.DECISION).order_by("-created_at").first())
    certificate = IssuedDocument.objects.filter(kind=DocumentKind.CERTIFICATE).order_by("-created_at").first()
    for name, document in (("decision", decision), ("certificate", certificate)):
        if document is None:
            print(f"no {name} issued in this database: load the demo first", file=sys.stderr)
            continue
        with document.file.open("rb") as handle:
            data = handle.read()
        # a fixed program and arguments; only the PDF's bytes go in, on stdin
        subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-", str(OUT / name)],  # noqa: S603
                       input=data, capture_output=True, check=True)
        print(f"{OUT / name}.png ← {document} ({document.sha256[:12]}…)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 110)
