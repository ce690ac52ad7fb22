"""Fixtures of the register's tests: the demo's cadastral areas and a registration case accepted
at the Jiayu window, on an empty block of the county seat."""

from __future__ import annotations

from decimal import Decimal

import pytest

from approvals.registry.services.numbering import cadastral_areas_from_parcels
from approvals.registry.services.registration import HolderInput
from parcels.models import Division, Parcel
from tests.factories import site_box, submit

# Inside TEST_BOX near the county seat, checked free of demo parcels by `free_site`.
FREE_SITE = (113.9000, 29.9400, 113.9006, 29.9405)


@pytest.fixture
def areas(onemap) -> int:
    return cadastral_areas_from_parcels(county=Division.objects.get(code="421221"), district_names={"001": "鱼岳镇"})


def holders(*pairs: tuple[str, str, str]) -> list[HolderInput]:
    return [HolderInput(name=n, id_type="resident_id", id_number=i, share=Decimal(s)) for n, i, s in pairs]


ONE_HOLDER = (("张三", "420000199001011234", "1"),)


def submit_site(applicant, site):
    """A registration case on an exact geometry (e.g. a registered parcel's), with its documents."""
    from approvals.services import application_submit, document_add
    from tests.factories import kind, pdf

    app = application_submit(applicant=applicant, kind=kind("registration"), title="变更登记", purpose="不动产登记", site=site, ip="10.0.0.7")
    for requirement in app.kind.required_documents.all():
        document_add(application=app, requirement=requirement, upload=pdf(f"{requirement.code}.pdf"), by=applicant, ip="10.0.0.7")
    return app


STATE = {"right_type": "国有建设用地使用权", "land_use": "0701"}


def state_terms() -> dict:
    import datetime as dt

    return {**STATE, "term_start": dt.date(2026, 1, 1), "term_end": dt.date(2096, 1, 1)}


@pytest.fixture
def accepted(users, areas):
    """A factory: a registration case on `bbox`, with its documents, accepted by clerk_jiayu."""
    from approvals.services import window_accept

    def make(bbox=FREE_SITE, applicant="applicant", site=None):
        if site is None:
            assert not Parcel.objects.filter(geom__intersects=site_box(*bbox), status="registered").exists()
            app = submit(users[applicant], code="registration", bbox=bbox, title="不动产首次登记")
        else:
            app = submit_site(users[applicant], site)
        return window_accept(application=app, by=users["clerk_jiayu"])

    return make
