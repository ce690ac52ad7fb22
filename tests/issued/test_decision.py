"""The decision paper (审批决定书): issued inside the final approval's or rejection's transaction,
stored with its SHA-256, versioned, append-only, readable (text) and drawn (page 1 not blank)."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from approvals.issued.models import IssuedDocument
from approvals.issued.services import decision_issue
from approvals.services import step_decide, task_answer, tasks_assign, window_accept
from parcels.geo import site_areas
from tests.factories import department, open_step, submit
from tests.issued.helpers import colour_pixels, ink_share, page_png, pdf_text


def approved_registration(users):
    app = submit(users["applicant"], code="registration", title="嘉鱼县城关镇住宅登记")
    app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    return step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved", comment="材料齐全，准予登记", ip="10.1.0.2")


def rejected_with_departments(users):
    app = submit(users["applicant"], title="厂房扩建")
    app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    step = open_step(app)
    lead, coop = department("421221", "耕地保护股"), department("421221", "国土空间规划股")
    tasks_assign(step=step, by=users["reviewer_jiayu"], lead=lead, cooperating=[coop], days=Decimal("1"))
    task_answer(task=step.tasks.get(department=coop), by=users["dept_jiayu_plan"], opinion="不符合国土空间规划", agrees=False)
    task_answer(task=step.tasks.get(department=lead), by=users["dept_jiayu"], opinion="占用永久基本农田，不同意", agrees=False)
    return step_decide(step=step, by=users["reviewer_jiayu"], outcome="rejected", comment="占用永久基本农田", ip="10.1.0.2")


def test_final_approval_issues_the_decision_with_its_hash(users):
    app = approved_registration(users)
    [doc] = IssuedDocument.objects.filter(application=app)
    data = doc.file.read()
    assert (doc.kind, doc.version, doc.number, doc.subject) == ("decision", 1, app.reference, f"application:{app.pk}")
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.size == len(data)
    assert data.startswith(b"%PDF-")
    assert doc.created_by == users["reviewer_jiayu"]
    assert doc.file.name.startswith("issued/decision/")
    assert app.reference not in doc.file.name


def test_the_decision_says_who_what_where_how_much_and_what_was_decided(users):
    app = approved_registration(users)
    doc = IssuedDocument.objects.get(application=app)
    text = pdf_text(doc.file.read())
    compact = "".join(text.split())
    areas = site_areas(app.site)
    assert "审批决定书" in compact
    assert app.reference in compact
    assert "applicant" in compact  # the applicant (account name: the demo applicant has no full name)
    assert "土地登记发证" in compact
    assert f"{areas.ellipsoidal_m2:.2f}" in compact
    assert f"{areas.ellipsoidal_m2 / 10000:.4f}" in compact
    assert f"{areas.ellipsoidal_m2 / (10000 / 15):.3f}" in compact
    assert f"{areas.gk_m2:.2f}" in compact
    assert f"EPSG:{areas.gk_epsg}" in compact
    report = app.overlap_reports.latest()
    for layer in report.result["layers"]:
        assert f"{layer['name']}v{layer['version']}" in compact
    assert "准予批准" in compact
    assert "材料齐全，准予登记" in compact
    assert "（印章）" in compact
    assert "第1版" in compact


def test_a_rejection_carries_every_departments_opinion(users):
    app = rejected_with_departments(users)
    doc = IssuedDocument.objects.get(application=app, kind="decision")
    compact = "".join(pdf_text(doc.file.read()).split())
    assert "不予批准决定书" in compact
    assert "不予批准" in compact
    assert "占用永久基本农田，不同意" in compact
    assert "不符合国土空间规划" in compact
    assert "耕地保护股" in compact
    assert "国土空间规划股" in compact
    assert "理由：占用永久基本农田" in compact


def test_page_one_is_drawn_with_its_map(users):
    app = approved_registration(users)
    png = page_png(IssuedDocument.objects.get(application=app).file.read())
    assert ink_share(png) > 0.02
    assert colour_pixels(png) > 50  # the site in red on the server-drawn map (and the seal)


def test_forwarding_issues_nothing(users):
    app = submit(users["applicant"])
    app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    step = open_step(app)
    lead = department("421221", "耕地保护股")
    tasks_assign(step=step, by=users["reviewer_jiayu"], lead=lead, cooperating=[], days=Decimal("1"))
    task_answer(task=step.tasks.get(department=lead), by=users["dept_jiayu"], opinion="同意", agrees=True)
    step_decide(step=step, by=users["reviewer_jiayu"], outcome="forwarded", comment="同意", ip="10.1.0.2")
    assert not IssuedDocument.objects.filter(application=app).exists()


def test_a_reissue_is_version_two_and_version_one_stays_as_it_was(users):
    app = approved_registration(users)
    first = IssuedDocument.objects.get(application=app)
    first_bytes = first.file.read()
    second = decision_issue(application=app, by=users["reviewer_jiayu"])
    assert second.version == 2
    assert second.file.name != first.file.name
    again = IssuedDocument.objects.get(pk=first.pk)
    assert (again.version, again.sha256, again.file.name) == (1, first.sha256, first.file.name)
    assert hashlib.sha256(again.file.read()).hexdigest() == first.sha256 == hashlib.sha256(first_bytes).hexdigest()
    assert "第2版" in "".join(pdf_text(second.file.read()).split())


@pytest.mark.parametrize("statement", ["UPDATE issued_issueddocument SET version = 9 WHERE id = %s",
                                       "UPDATE issued_issueddocument SET sha256 = repeat('0', 64) WHERE id = %s",
                                       "DELETE FROM issued_issueddocument WHERE id = %s"])
def test_the_database_refuses_to_change_or_delete_an_issued_document(users, statement):
    app = approved_registration(users)
    doc = IssuedDocument.objects.get(application=app)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [doc.pk])
    assert IssuedDocument.objects.get(pk=doc.pk).sha256 == doc.sha256


def test_the_orm_cannot_overwrite_either(users):
    app = approved_registration(users)
    doc = IssuedDocument.objects.get(application=app)
    doc.number = "X"
    with pytest.raises(DatabaseError), transaction.atomic():
        doc.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        IssuedDocument.objects.filter(pk=doc.pk).delete()


def test_each_level_heads_its_paper_with_its_own_authority():
    from approvals.issued.papers import bureau_name
    from parcels.models import Division

    assert bureau_name(Division(code="100000", name="中华人民共和国", level="nation")) == "中华人民共和国自然资源部"
    assert bureau_name(Division(code="420000", name="湖北省", level="province")) == "湖北省自然资源厅"
    assert bureau_name(Division(code="421200", name="咸宁市", level="city")) == "咸宁市自然资源和规划局"
    assert bureau_name(Division(code="421221", name="嘉鱼县", level="county")) == "嘉鱼县自然资源和规划局"
    assert bureau_name(Division(code="421221100", name="鱼岳镇", level="station")) == "鱼岳镇自然资源所"
