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


@pytest.fixture
def accepted(users, areas):
    """A factory: a registration case on `bbox`, with its documents, accepted by clerk_jiayu."""
    from approvals.services import window_accept

    def make(bbox=FREE_SITE, applicant="applicant"):
        assert not Parcel.objects.filter(geom__intersects=site_box(*bbox), status="registered").exists() or bbox != FREE_SITE
        app = submit(users[applicant], code="registration", bbox=bbox, title="不动产首次登记")
        return window_accept(application=app, by=users["clerk_jiayu"])

    return make
