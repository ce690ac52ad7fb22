"""Gap-free certificate serials and parcel codes: under concurrency, after a rollback, and the
database's own guard against a gap."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from approvals.registry.models import Certificate, CertificateCounter
from approvals.registry.services.numbering import certificate_number, certificate_serial_next
from approvals.registry.services.registration import registration_register
from parcels.models import Division
from tests.registry.conftest import ONE_HOLDER, holders


def test_certificate_number_national_style(divisions):
    county = Division.objects.get(code="421221")
    assert certificate_number(county=county, year=2026, serial=123) == "鄂(2026)嘉鱼县不动产权第0000123号"


@pytest.mark.django_db(transaction=True)
def test_concurrent_serials_are_gap_free(divisions):
    county = Division.objects.get(code="421221")
    got: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(6)

    def take() -> None:
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                got.append(certificate_serial_next(county=county, year=2031))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    assert CertificateCounter.objects.get(county=county, year=2031).last == 6


@pytest.mark.django_db(transaction=True)
def test_rolled_back_registration_leaves_no_gap(users, accepted):
    first = accepted()
    year = timezone.localtime().year

    def register_then_fail() -> None:
        with transaction.atomic():
            registration_register(application=first, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER),
                                  right_type="国有建设用地使用权", land_use="0701",
                                  term_start=timezone.localdate(), term_end=timezone.localdate().replace(year=year + 70))
            raise RuntimeError("printer jammed: roll the registration back")

    with pytest.raises(RuntimeError):
        register_then_fail()
    assert not Certificate.objects.exists()
    certificate = registration_register(application=first, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER),
                                        right_type="国有建设用地使用权", land_use="0701",
                                        term_start=timezone.localdate(), term_end=timezone.localdate().replace(year=year + 70))
    assert certificate.serial == 1
    assert certificate.number == f"鄂({year})嘉鱼县不动产权第0000001号"


def test_database_refuses_a_gap(users, accepted):
    app = accepted()
    year = timezone.localtime().year
    certificate = registration_register(application=app, by=users["clerk_jiayu"], holders=holders(*ONE_HOLDER),
                                        right_type="国有建设用地使用权", land_use="0701",
                                        term_start=timezone.localdate(), term_end=timezone.localdate().replace(year=year + 70))
    with pytest.raises(IntegrityError, match="leaves a gap"), transaction.atomic():
        Certificate.objects.create(number="gap", county=certificate.county, year=year, serial=3, right=certificate.right,
                                   issued_at=timezone.now(), issued_by=users["clerk_jiayu"], verify_salt="0" * 32, status="cancelled",
                                   status_reason="x", ended_at=timezone.now(), ended_by=users["clerk_jiayu"])
