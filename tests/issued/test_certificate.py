"""The certificate PDF (不动产权证书): issued with the registry's certificate (and on replacement,
as the next version of the same right), laid out as the register page and the map page; its
boundary-point table matches the site in the 3° Gauss–Krüger zone to the millimetre (expected values
computed here independently with pyproj) and the TXT export exactly."""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from django.utils import timezone
from pyproj import Transformer

from approvals.issued.boundary import application_boundary_txt
from approvals.issued.models import IssuedDocument
from approvals.registry.services.certificates import certificate_replace
from approvals.registry.services.registration import HolderInput, registration_register
from tests.issued.helpers import colour_pixels, ink_share, page_png, pdf_text
from tests.registry.conftest import FREE_SITE

HOLDERS = [HolderInput(name="王五", id_type="resident_id", id_number="420000198001011234", share=Decimal("0.6")),
           HolderInput(name="赵六", id_type="resident_id", id_number="420000198502021234", share=Decimal("0.4"))]


def register(users, accepted):
    app = accepted()
    today = timezone.localdate()
    certificate = registration_register(application=app, by=users["clerk_jiayu"], holders=HOLDERS, right_type="国有建设用地使用权",
                                        land_use="0701", term_start=today, term_end=today.replace(year=today.year + 70))
    return app, certificate


def expected_corners() -> set[tuple[str, str]]:
    """FREE_SITE's four corners as (X northing, Y easting) strings in mm, CGCS2000 3° GK zone 38
    (central meridian 114° E; EPSG:4526 with the zone prefix), computed with pyproj alone."""
    west, south, east, north = FREE_SITE
    zone = round(((west + east) / 2) / 3)
    assert zone == 38
    to_gk = Transformer.from_crs("EPSG:4490", f"EPSG:{4488 + zone}", always_xy=True)
    out = set()
    for lon, lat in ((west, south), (west, north), (east, north), (east, south)):
        easting, northing = to_gk.transform(lon, lat)
        out.add((f"{northing:.3f}", f"{easting:.3f}"))
    return out


ROW = re.compile(r"^\s*(J\d+)\s+(\d+)\s+(\d{7}\.\d{3})\s+(\d{8}\.\d{3})(?:\s+(\d+\.\d{2}))?\s*$", re.MULTILINE)


def test_registration_issues_the_certificate_pdf(users, accepted):
    app, certificate = register(users, accepted)
    [doc] = IssuedDocument.objects.filter(kind="certificate")
    data = doc.file.read()
    assert (doc.version, doc.number, doc.subject, doc.certificate_id, doc.application_id) == (
        1, certificate.number, f"right:{certificate.right_id}", certificate.pk, app.pk)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.pages >= 2


def test_the_register_page_says_holders_shares_code_type_use_area_and_term(users, accepted):
    _app, certificate = register(users, accepted)
    doc = IssuedDocument.objects.get(kind="certificate")
    compact = "".join(pdf_text(doc.file.read()).split())
    right = certificate.right
    assert "不动产权证书" in compact
    assert certificate.number in compact
    assert "王五、赵六" in compact
    assert "按份共有：王五占60%；赵六占40%" in compact
    assert "420000198001011234" in compact
    assert right.parcel.code in compact
    assert "国有建设用地使用权" in compact
    assert "0701" in compact
    assert f"{right.area_m2:.2f}" in compact
    assert f"{right.area_m2 / 10000:.4f}" in compact
    assert f"{right.gk_area_m2:.2f}" in compact
    assert f"{right.term_start:%Y}年{right.term_start.month}月{right.term_start.day}日起{right.term_end:%Y}年" in compact
    assert "附图页" in compact
    assert "宗地图" in compact


def test_the_boundary_point_table_matches_the_site_to_the_millimetre(users, accepted):
    app, _certificate = register(users, accepted)
    text = pdf_text(IssuedDocument.objects.get(kind="certificate").file.read())
    rows = ROW.findall(text)
    assert [r[0] for r in rows] == ["J1", "J2", "J3", "J4", "J1"]
    printed = {(x, y) for _name, _ring, x, y, _edge in rows}
    expected = expected_corners()
    assert printed == expected
    # the same numbers as the TXT export, row for row (same zone, rounding and starting vertex)
    txt = application_boundary_txt(application=app).decode()
    txt_rows = re.findall(r"^(J\d+),(\d+),([\d.]+),([\d.]+)\r?$", txt, re.MULTILINE)
    assert [(n, ring, x, y) for n, ring, x, y, _e in rows] == txt_rows
    # edge lengths from the coordinates, metres to the centimetre
    points = [(float(x), float(y)) for _n, _r, x, y, _e in rows]
    for (x0, y0), (x1, y1), row in zip(points, points[1:], rows, strict=False):
        assert row[4] == f"{((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5:.2f}"
    assert "第38带" in "".join(text.split())


def test_both_pages_are_drawn(users, accepted):
    register(users, accepted)
    data = IssuedDocument.objects.get(kind="certificate").file.read()
    assert ink_share(page_png(data, page=1)) > 0.02
    assert colour_pixels(page_png(data, page=2)) > 50  # the parcel in red on the map page


def test_a_replacement_is_version_two_and_the_first_says_it_is_superseded(users, accepted, client):
    _app, certificate = register(users, accepted)
    first = IssuedDocument.objects.get(kind="certificate")
    new = certificate_replace(certificate=certificate, by=users["clerk_jiayu"], reason="证书遗失补发")
    second = IssuedDocument.objects.get(kind="certificate", version=2)
    assert (second.number, second.certificate_id, second.subject) == (new.number, new.pk, first.subject)
    again = IssuedDocument.objects.get(pk=first.pk)
    assert (again.version, again.sha256, again.number) == (1, first.sha256, certificate.number)
    assert new.number in "".join(pdf_text(second.file.read()).split())


def test_the_certificate_goes_only_to_the_applicant_and_the_staff_of_that_land(users, accepted, client_as):
    """Holders' names and identity numbers: not for planners, departments, other counties or the
    administrator through the pages."""
    register(users, accepted)
    doc = IssuedDocument.objects.get(kind="certificate")
    expected = {"applicant": 200, "clerk_jiayu": 200, "reviewer_jiayu": 200,
                "planner": 404, "dept_jiayu": 404, "reviewer_chibi": 404, "admin": 404}
    assert {u: client_as(u).get(f"/documents/{doc.pk}.pdf").status_code for u in expected} == expected
