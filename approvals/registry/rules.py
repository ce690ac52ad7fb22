"""Who may do what in the register (django-rules; loaded by rules' autodiscovery).

Registering, changing parcels and managing certificates belong to the window clerks of the county
itself (the registration authority is the county's real-estate registration office; a city clerk
covers the county for receiving cases but does not register in its name). Reading a certificate
with its holders (personal data) is for the staff who act on that land: clerks and level reviewers
whose jurisdiction covers the county.
"""

from __future__ import annotations

import rules

from approvals.choices import Role
from approvals.models import Application
from approvals.permissions import covers, memberships
from approvals.registry.counties import county_of
from approvals.registry.models import Certificate
from parcels.models import Parcel


def _county_of(obj) -> str | None:
    if isinstance(obj, Application):
        county = county_of(obj.division)
        return county.pk if county is not None else None
    if isinstance(obj, Certificate):
        return obj.county_id
    if isinstance(obj, Parcel):
        return obj.division_id
    raise TypeError(f"no county for {type(obj).__name__}")


@rules.predicate
def is_county_clerk(user, obj) -> bool:
    if _county_of(obj) is None:
        return False
    return memberships(user, Role.CLERK).filter(division_id=_county_of(obj), division__level="county").exists()


@rules.predicate
def is_case_agent(user, obj) -> bool:
    return isinstance(obj, Application) and obj.agent_id is not None and obj.agent_id == user.pk


@rules.predicate
def acts_on_county(user, obj) -> bool:
    from parcels.models import Division

    code = _county_of(obj)
    county = Division.objects.filter(pk=code).first() if code else None
    return county is not None and any(covers(m.division, county) for role in (Role.CLERK, Role.REVIEWER) for m in memberships(user, role))


# The agent who carried a case for its applicant does not register it too (four eyes, as at the window).
rules.add_perm("registry.register", is_county_clerk & ~is_case_agent)
rules.add_perm("registry.manage_certificate", is_county_clerk)
rules.add_perm("registry.change_parcel", is_county_clerk)
rules.add_perm("registry.view_register", acts_on_county)
