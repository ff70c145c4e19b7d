"""The SOP flowchart: swimlanes per owner, stages left to right, parallel steps in one column, time
standards, checkpoints and milestones; CJK text wrapped by width; everything escaped."""

from __future__ import annotations

import re
from datetime import date, datetime
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest

from pledge.standards import selectors
from pledge.standards import services as standards_services
from pledge.standards.flowchart import sop_flowchart_svg, text_units, wrap
from pledge.standards.services import CheckpointData, StepData
from tests.conftest import World
from tests.sops import approved_repair_sop

SH = ZoneInfo("Asia/Shanghai")
NS = {"svg": "http://www.w3.org/2000/svg"}


def _boxes(svg: str) -> dict[str, tuple[float, float]]:
    root = ElementTree.fromstring(svg)
    boxes = {}
    for group in root.iterfind(".//svg:g[@class='step']", NS):
        rect = group.find("svg:rect", NS)
        assert rect is not None
        boxes[group.attrib["data-key"]] = (float(rect.attrib["x"]), float(rect.attrib["y"]))
    return boxes


def test_lanes_stages_and_parallel_steps(world: World) -> None:
    standards_services.ensure_builtin_calendars()
    version = approved_repair_sop(
        world.manager, effective=date(2026, 11, 2), at=datetime(2026, 11, 2, 9, tzinfo=SH)
    )
    svg = str(sop_flowchart_svg(selectors.sop_version_get(version.sop, 1)))
    root = ElementTree.fromstring(svg)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    boxes = _boxes(svg)
    assert list(boxes) == ["diagnose", "repair", "parts", "confirm"]
    # Stages run left to right; the two parallel steps share a column (same lane: stacked).
    assert boxes["diagnose"][0] < boxes["repair"][0] == boxes["parts"][0] < boxes["confirm"][0]
    assert boxes["repair"][1] != boxes["parts"][1]
    lanes = [t.text for t in root.iterfind(".//svg:text[@class='lane-label']", NS)]
    assert lanes == ["Frontline", "Field engineer"]
    text = "".join(root.itertext())
    assert "≤ 1 h" in text and "≤ 4 h" in text and "≤ 2 h" in text  # time standards
    assert "⚑ Fault diagnosed" in text and "⚑ Repair confirmed" in text  # milestones
    assert "2 checkpoints" in text
    # A critical checkpoint colours the marker red.
    markers = root.findall(".//svg:text[@class='checkpoints']", NS)
    assert {m.attrib["fill"] for m in markers} == {"#c81e1e", "#52606d"}
    # Start → 1 → (2 ∥ 3) → 4 → end: 1 + 2 + 2 + 1 arrows.
    assert len(root.findall(".//svg:path[@class='flow']", NS)) == 6


def test_back_office_teams_get_their_own_lane_and_text_is_escaped(world: World) -> None:
    standards_services.ensure_builtin_calendars()
    draft = standards_services.sop_create(
        actor=world.manager,
        code="escalated-repair",
        name="<b>升级</b> repair",
        steps=[
            StepData(
                key="intake",
                name="受理并记录客户的故障描述和设备序列号",
                owner="frontline",
                time_standard_minutes=30,
            ),
            StepData(
                key="analyse",
                name="Analyse <script>",
                owner="back_office",
                team=world.back_office,
                time_standard_minutes=240,
                checkpoints=[CheckpointData(key="cause", label="Root cause", kind="text")],
            ),
        ],
    )
    svg = str(sop_flowchart_svg(selectors.sop_version_get(draft.sop, 1)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    root = ElementTree.fromstring(svg)
    lanes = [t.text for t in root.iterfind(".//svg:text[@class='lane-label']", NS)]
    assert lanes == ["Frontline", "Technical"]
    names = [t.text or "" for t in root.iterfind(".//svg:g[@data-key='intake']/svg:text", NS)]
    assert names[0].startswith("受理") and all(text_units(name) <= 26 for name in names[:2])


def test_wrap_counts_wide_characters_double() -> None:
    assert text_units("服务abc") == pytest.approx(4 + 3 * 1.2)
    assert wrap("预防性维护保养计划执行", 10, 2) == ["预防性维护", "保养计划执"[:4] + "…"]
    assert wrap("Replace the worn hydraulic seal", 20, 2) == ["Replace the worn", "hydraulic seal"]
    assert wrap("short", 16, 2) == ["short"]
    assert re.fullmatch(r".*…", wrap("a" * 50, 10, 1)[0])
