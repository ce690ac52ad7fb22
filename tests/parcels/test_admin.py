"""Layer versions are the evidence behind overlap reports: the admin never deletes them, and a
layer whose versions a report cites cannot be deleted either (403, not a database error)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parcels.models import Layer, LayerVersion
from tests.factories import submit

pytestmark = pytest.mark.django_db


def test_layer_versions_cannot_be_deleted_in_the_admin(client_as, onemap):
    admin = client_as("admin")
    version = LayerVersion.objects.first()
    assert admin.get(reverse("admin:parcels_layerversion_delete", args=[version.pk])).status_code == 403
    assert admin.post(reverse("admin:parcels_layerversion_delete", args=[version.pk]), {"post": "yes"}).status_code == 403
    assert LayerVersion.objects.filter(pk=version.pk).exists()


def test_a_layer_cited_by_a_report_cannot_be_deleted_but_an_unused_one_can(client_as, users):
    submit(users["applicant"])  # computes and stores an overlap report citing every active version
    admin = client_as("admin")
    cited = Layer.objects.filter(versions__overlap_reports__isnull=False).first()
    assert cited is not None
    url = reverse("admin:parcels_layer_delete", args=[cited.pk])
    assert admin.post(url, {"post": "yes"}).status_code == 403
    assert Layer.objects.filter(pk=cited.pk).exists()

    unused = Layer.objects.create(slug="scratch", name="草稿", kind=cited.kind, rule=cited.rule)
    response = admin.post(reverse("admin:parcels_layer_delete", args=[unused.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Layer.objects.filter(pk=unused.pk).exists()
