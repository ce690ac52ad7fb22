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
