"""The demo ratings (data/hall_demo_ratings.py): consultations and ratings through the services,
mostly good, a few bad with their follow-up cases, nothing in the future; a second run makes nothing."""

from __future__ import annotations

import pytest
from django.db.models import Avg
from django.utils import timezone

from approvals.hall.choices import FollowUpState, ServiceKind
from approvals.hall.models import FollowUpCase, Rating, ServiceEvent
from data.hall_demo_ratings import load_ratings_demo


@pytest.mark.django_db
def test_demo_ratings(users):
    given = load_ratings_demo()
    assert given == Rating.objects.count() > 40
    now = timezone.now()
    assert not Rating.objects.filter(at__gt=now).exists()
    assert ServiceEvent.objects.filter(kind=ServiceKind.CONSULTATION).count() > given * 0.9
    assert Rating.objects.aggregate(mean=Avg("stars"))["mean"] > 4
    bad = Rating.objects.filter(stars__lte=2)
    assert bad.count() >= 3
    assert FollowUpCase.objects.count() == bad.count()
    states = set(FollowUpCase.objects.values_list("state", flat=True))
    assert FollowUpState.CLOSED in states
    assert states - {FollowUpState.CLOSED}, "the latest bad rating's case is still being handled"
    assert load_ratings_demo() == 0
