"""The flowchart of every demo SOP renders in a real browser: each version in effect is drawn with one
box per step, no two boxes overlap, every step name fits its box, and a screenshot is taken of each. The
handbook of the demo standard is produced in both languages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from pledge.demo.data import DEMO_PASSWORD
from pledge.demo.loader import load_demo
from pledge.standards import handbook
from pledge.standards.models import Sop
from pledge.standards.selectors import sop_version_in_effect

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


@pytest.mark.django_db(transaction=True)
def test_every_demo_flowchart_renders(live_server: Any, new_page: Any, tmp_path: Path) -> None:
    load_demo(now=NOW, ticket_count=30)
    today = timezone.localdate()
    versions = [(sop, sop_version_in_effect(sop.pk, today)) for sop in Sop.objects.order_by("code")]
    assert len(versions) >= 6 and all(version is not None for _sop, version in versions)

    page = new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form[action$='/accounts/login/'] button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    for sop, version in versions:
        assert version is not None
        page.goto(f"{live_server.url}/standards/sops/{sop.code}/v{version.number}/")
        chart = page.locator("svg.sop-flowchart")
        chart.wait_for()
        steps = chart.locator("g.step")
        assert steps.count() == version.steps.count(), sop.code
        boxes = [steps.nth(i).locator("rect").bounding_box() for i in range(steps.count())]
        assert all(box is not None and box["width"] > 50 and box["height"] > 30 for box in boxes)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a is not None and b is not None
                assert not _overlap(a, b), sop.code
        # Every line of a step's name stays inside its box.
        for i in range(steps.count()):
            box = boxes[i]
            assert box is not None
            for text in steps.nth(i).locator("text").all()[:2]:
                line = text.bounding_box()
                assert line is not None and line["x"] + line["width"] <= box["x"] + box["width"] + 1, sop.code
        shot = tmp_path / f"flowchart-{sop.code}.png"
        chart.screenshot(path=str(shot))
        assert shot.stat().st_size > 5_000

    for language, title in (("en", "Service standards handbook"), ("zh-hans", "服务标准手册")):
        with translation.override(language):
            book = handbook.build_handbook(today)
            html = handbook.render_html(book)
            markdown = handbook.render_markdown(book)
        assert title in html and markdown.startswith(f"# {title}")
        assert html.count('class="sop-flowchart"') == len(versions)
