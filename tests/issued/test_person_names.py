"""How papers (decision, certificate) name a person: Chinese names family name first, no space."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from approvals.issued.papers import person


def test_chinese_name_family_first():
    user = get_user_model()(username="resident_05", first_name="春花", last_name="何")
    assert person(user) == "何春花"


def test_latin_name_and_account_name():
    user_model = get_user_model()
    assert person(user_model(username="jd", first_name="Jane", last_name="Doe")) == "Jane Doe"
    assert person(user_model(username="applicant")) == "applicant"
    assert person(None) == ""
