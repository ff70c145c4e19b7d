"""The standards handbook: the standard in effect on a date — catalogue, SOP versions with steps,
checkpoints and time standards, SLA policies, calendars — as HTML and Markdown, in both languages, and
`pledge standards export` as a user runs it."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from pledge.standards import handbook
from pledge.standards import services as standards_services
from pledge.standards.models import ServiceType
from tests.conftest import World
from tests.sops import repair_service
from tests.test_cli import assert_one_line_error, pledge_env, run

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def standard(world: World) -> ServiceType:
    """Repair SOP v1 from 2 November 2026, v2 (diagnosis 45 minutes) from 1 December; one policy."""
    standards_services.ensure_builtin_calendars()
    service = repair_service(
        world.manager, effective=date(2026, 11, 2), at=datetime(2026, 11, 2, 9, tzinfo=SH)
    )
    assert service.sop is not None
    draft = standards_services.sop_draft_start(
        actor=world.manager,
        sop=service.sop,
        reason="Faster diagnosis",
        at=datetime(2026, 11, 20, 9, tzinfo=SH),
    )
    steps = standards_services.step_data_of(draft)
    steps[0] = standards_services.StepData(**{**steps[0].__dict__, "time_standard_minutes": 45})
    standards_services.sop_draft_save(
        actor=world.manager, version=draft, steps=steps, reason="Faster diagnosis after training"
    )
    standards_services.sop_version_approve(
        actor=world.manager,
        version=draft,
        effective_from=date(2026, 12, 1),
        at=datetime(2026, 11, 20, 9, tzinfo=SH),
    )
    standards_services.sla_policy_create(
        actor=world.manager,
        name="Faults on office hours",
        calendar="cn-office",
        kinds=["fault"],
        first_response_minutes=120,
        resolution_minutes=960,
    )
    return service


def test_the_handbook_holds_the_version_in_effect_on_its_date(standard: ServiceType) -> None:
    november = handbook.build_handbook(date(2026, 11, 25))
    december = handbook.build_handbook(date(2026, 12, 5))
    assert [entry.version.number for entry in november.sops] == [1]
    assert [entry.version.number for entry in december.sops] == [2]
    assert [st.code for st in november.service_types] == ["fault-repair"]
    assert [p.name for p in november.policies] == ["Faults on office hours"]
    assert [c.calendar.code for c in november.calendars] == ["cn-office"]
    before = handbook.build_handbook(date(2026, 10, 1))
    assert before.sops == [] and [sop.code for sop in before.without_version] == ["repair"]


def test_html_and_markdown_editions(standard: ServiceType) -> None:
    with translation.override("en"):
        book = handbook.build_handbook(date(2026, 12, 5))
        html = handbook.render_html(book)
        markdown = handbook.render_markdown(book)
    assert html.startswith("<!doctype html>") and "<svg" in html and "<script" not in html
    for text in (html, markdown):
        assert "Service standards handbook" in text
        assert "Fault repair — version 2" in text
        assert "Reason for this version: Faster diagnosis after training" in text
        assert "45 minutes" in text  # the new time standard
        assert "Hydraulic pressure after repair" in text and "Number 5–8 bar · mandatory · critical" in text
        assert "Repair confirmed" in text  # the milestone
        assert "Faults on office hours" in text and "First response 2 hours" in text
        assert "2026-12-31" not in text or "cn-office" in text
    assert "| 2 | Repair on site | Field engineer | 4 hours |" in markdown
    assert "<strong>alarm code</strong>" in html  # guidance rendered from Markdown
    assert "Ask for the **alarm code** first." in markdown


def test_chinese_edition(standard: ServiceType) -> None:
    with translation.override("zh-hans"):
        markdown = handbook.render_markdown(handbook.build_handbook(date(2026, 12, 5)))
    assert markdown.startswith("# 服务标准手册")
    assert "服务目录" in markdown and "标准作业程序" in markdown
    assert "2026-10-01 国庆节" in markdown  # the built-in holidays in the calendar section


def test_export_command(tmp_path: Path) -> None:
    env = pledge_env(tmp_path, PYTHONPATH=str(Path(__file__).resolve().parents[2]))  # for tests.sops
    assert run(["migrate", "-v0"], env).returncode == 0
    setup = (
        "from datetime import date, datetime; from zoneinfo import ZoneInfo; "
        "from pledge.accounts import services as a; from pledge.standards import services as s; "
        "from tests.sops import repair_service; s.ensure_builtin_calendars(); "
        "m = a.user_create(username='m', password='a-long-password-1', role='service_manager', email='m@x.org', "
        "display_name='M'); "
        "repair_service(m, effective=date(2026, 11, 2), at=datetime(2026, 11, 2, 9, tzinfo=ZoneInfo('Asia/Shanghai')))"
    )
    created = run(["shell", "-c", setup], env)
    assert created.returncode == 0, created.stderr
    out = tmp_path / "handbook.md"
    exported = run(
        [
            "standards",
            "export",
            "--date",
            "2026-11-30",
            "--format",
            "markdown",
            "--language",
            "zh-hans",
            "-o",
            str(out),
        ],
        env,
    )
    assert exported.returncode == 0, exported.stderr
    assert "2026-11-30" in exported.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# 服务标准手册") and "Fault repair" in text
    html = run(["standards", "export", "--date", "2026-11-30"], env)
    assert html.returncode == 0 and html.stdout.startswith("<!doctype html>") and "<svg" in html.stdout
    bad = run(["standards", "export", "--date", "30/11/2026"], env)
    assert "30/11/2026" in assert_one_line_error(bad)
    unwritable = run(["standards", "export", "-o", str(tmp_path / "missing" / "x.html")], env)
    assert "cannot write" in assert_one_line_error(unwritable)
