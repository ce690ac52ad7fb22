"""factory_boy factories for the approval domain. Geometry defaults are real sites in Jiayu."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon

from approvals.choices import Role
from approvals.models import Membership


def site_box(west: float, south: float, east: float, north: float) -> MultiPolygon:
    """A rectangular site in lon/lat degrees (SRID 4490)."""
    return MultiPolygon(Polygon.from_bbox((west, south, east, north)), srid=4490)


# About 190 m × 220 m near the Jiayu county seat, crossing the urban boundary edge.
JIAYU_SITE = (113.930, 29.955, 113.932, 29.957)
# Inside Chibi (421281), south-west of Jiayu.
CHIBI_SITE = (113.80, 29.70, 113.802, 29.702)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.REVIEWER
    division_id = "421221"


# --- workflow helpers -----------------------------------------------------------------------

def minimal_pdf(*objects: bytes, catalog: bytes = b"", header: bytes = b"%PDF-1.4\n") -> bytes:
    """A real one-page PDF (catalog with extra `catalog` entries, pages, page + `objects` numbered
    from 4, cross-reference table, trailer): the upload check parses documents with pypdf, so a bare
    "%PDF-" header is no longer enough."""
    body = [b"<< /Type /Catalog /Pages 2 0 R " + catalog + b">>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>", *objects]
    out, offsets = header, []
    for number, obj in enumerate(body, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(body) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(body) + 1, xref)


PDF_BYTES = minimal_pdf()


def kind(code: str = "construction_land"):
    from approvals.models import ApplicationKind

    return ApplicationKind.objects.get(code=code)


def pdf(name: str = "材料.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def submit(applicant, *, code: str = "construction_land", bbox=JIAYU_SITE, title: str = "厂房扩建", documents: bool = True, **kw):
    """Submits an application on a box site; with `documents`, attaches every required document."""
    from approvals.services import application_submit, document_add

    app = application_submit(applicant=applicant, kind=kind(code), title=title, purpose="工业用地", site=site_box(*bbox), ip="10.0.0.7", **kw)
    if documents:
        for requirement in app.kind.required_documents.all():
            document_add(application=app, requirement=requirement, upload=pdf(f"{requirement.code}.pdf"), by=applicant, ip="10.0.0.7")
    return app


def open_step(app):
    return app.steps.get(closed_at__isnull=True)


def department(division: str, name: str):
    from approvals.models import Department

    return Department.objects.get(division_id=division, name=name)
