"""Deployment checks: no published demo password on a production server, and a worker pool that
fits into PostgreSQL's connection limit.

The WSGI server does not run Django's system checks, so `onemap/gunicorn.conf.py` calls
`startup_problems()` before it forks its workers and refuses to start on any problem. The same
demo-password test is registered as a deploy check, so `manage.py check --deploy --database default`
reports it too.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core import checks

# PostgreSQL keeps superuser_reserved_connections (3 by default) for administrators. Management
# commands (migrate, cron's notify_due) and a psql session need a few more.
RESERVED_CONNECTIONS = 3 + 5


def demo_mode() -> bool:
    return os.environ.get("ONEMAP_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}


def demo_password_accounts() -> list[str]:
    """Usernames of active accounts whose password is the published demo password (or the
    ONEMAP_DEMO_PASSWORD override, which the demo loader prints).

    Accounts are tested by hashing the password with each stored salt (PBKDF2 takes ~0.3 s).
    Accounts sharing one stored hash, as the demo accounts do, cost a single test. The test covers
    every active account that can do more than apply: the demo account names, staff, superusers
    and anyone holding a role other than applicant. Applicant accounts register themselves and
    may run into thousands, and each would add a hash to every start.
    """
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import check_password
    from django.db.models import Q

    from approvals.choices import Role
    from data.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, PUBLISHED_DEMO_PASSWORD

    candidates = {PUBLISHED_DEMO_PASSWORD, DEMO_PASSWORD}
    users = (
        get_user_model().objects.filter(is_active=True)
        .filter(
            Q(username__in=[a.username for a in DEMO_ACCOUNTS]) | Q(is_staff=True) | Q(is_superuser=True)
            | Q(pk__in=_staff_member_ids(exclude_role=Role.APPLICANT))
        )
        .order_by("username")
        .values_list("username", "password")
    )
    verdict: dict[str, bool] = {}
    found = []
    for username, encoded in users:
        if encoded not in verdict:
            verdict[encoded] = any(check_password(candidate, encoded) for candidate in candidates)
        if verdict[encoded]:
            found.append(username)
    return found


def _staff_member_ids(*, exclude_role: str):
    from approvals.models import Membership

    return Membership.objects.exclude(role=exclude_role).values("user_id")


def demo_password_problem() -> str | None:
    """The refusal message, or None when serving is safe (DEBUG, ONEMAP_DEMO=1, or no such account)."""
    if settings.DEBUG or demo_mode():
        return None
    found = demo_password_accounts()
    if not found:
        return None
    shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    return (
        f"{len(found)} active account(s) still use the published demo password: {shown}. "
        "Change their passwords (manage.py changepassword NAME) or deactivate them, "
        "or set ONEMAP_DEMO=1 to serve the demo on purpose."
    )


def max_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        return int(cursor.fetchone()[0])


def connection_budget_problem(*, workers: int, threads: int) -> str | None:
    """None if the pool fits into max_connections, else the refusal message.

    A gthread worker's threads each keep at most one connection. When a worker is recycled
    (max_requests), its replacement starts before it has gone, so one extra worker's worth is
    counted: (workers + 1) × threads + RESERVED_CONNECTIONS ≤ max_connections.
    """
    limit = max_connections()
    needed = (workers + 1) * threads + RESERVED_CONNECTIONS
    if needed <= limit:
        return None
    return (
        f"{workers} workers × {threads} threads may hold {(workers + 1) * threads} database connections "
        f"(one worker more while one is replaced) plus {RESERVED_CONNECTIONS} reserved = {needed}, "
        f"but PostgreSQL's max_connections is {limit}. Lower WEB_WORKERS/WEB_THREADS or raise max_connections."
    )


def startup_problems(*, workers: int, threads: int) -> list[str]:
    return [p for p in (demo_password_problem(), connection_budget_problem(workers=workers, threads=threads)) if p]


@checks.register(checks.Tags.security, deploy=True)
def check_demo_passwords(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """`manage.py check --deploy --database default`: the demo-password refusal as an error."""
    if not databases or "default" not in databases:
        return []
    problem = demo_password_problem()
    return [checks.Error(problem, id="onemap.E001")] if problem else []
