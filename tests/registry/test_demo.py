"""The register's demo (data/registry_demo.py) runs through the services and is idempotent."""

from __future__ import annotations

import pytest

from approvals.registry.models import CadastralArea, Certificate, ParcelChange
from data.registry_demo import load_registry_demo

pytestmark = pytest.mark.django_db


def test_registry_demo(users):
    made = load_registry_demo()
    assert made == 9
    statuses = sorted(Certificate.objects.values_list("status", flat=True))
    assert statuses == ["cancelled", "issued", "issued", "issued", "replaced"]
    assert sorted(ParcelChange.objects.values_list("kind", flat=True)) == ["merge", "registration", "registration", "registration",
                                                                          "registration", "resurvey", "split"]
    assert CadastralArea.objects.filter(name__startswith="鱼岳镇").exists()
    # numbering is gap-free per county and year
    for year in set(Certificate.objects.values_list("year", flat=True)):
        serials = sorted(Certificate.objects.filter(year=year).values_list("serial", flat=True))
        assert serials == list(range(1, len(serials) + 1))
    assert load_registry_demo() == 0
