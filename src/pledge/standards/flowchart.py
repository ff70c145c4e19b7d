"""The flowchart of an SOP version (服务流程图) as server-side SVG.

One swimlane per owner (frontline, field engineers, each back-office team that receives a hand-off),
stages from left to right (steps of one parallel group stand in the same column), arrows from every
step of a stage to every step of the next. Each box shows the step's name, its time standard, its
checkpoints (◆, red when one is critical) and, for a customer-visible milestone, a flag with the name
the customer sees. No JavaScript and no external resources: the SVG is inlined in pages and the
printable handbook, and scales to the width of its container.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from pledge.standards.choices import StepOwner
from pledge.standards.models import SopStep, SopVersion

LABEL_WIDTH = 150
COLUMN_WIDTH = 210
BOX_WIDTH = 180
BOX_HEIGHT = 78
BOX_GAP = 14
LANE_PADDING = 16
TERMINAL_WIDTH = 70
HEADER_HEIGHT = 34
NAME_UNITS = 26  # half-width character cells per line of a step's name
LABEL_UNITS = 18


# Wide (CJK) characters take two cells; a Latin letter in the bold system font is a little wider than
# half a CJK character.
WIDE, NARROW = 2.0, 1.2


def text_units(text: str) -> float:
    """How many half-width cells `text` takes when drawn: CJK and other wide characters count two."""
    return sum(WIDE if unicodedata.east_asian_width(ch) in ("W", "F") else NARROW for ch in text)


def wrap(text: str, units: float, lines: int) -> list[str]:
    """`text` broken into at most `lines` lines of at most `units` cells; the last one ends in "…" when
    the text does not fit. Breaks at the last space of a line when it has one (between words, or after a
    "中文 / English" separator), anywhere otherwise (CJK text has no spaces)."""
    result: list[str] = []
    current = ""
    for ch in text:
        if text_units(current + ch) <= units:
            current += ch
            continue
        cut = current.rfind(" ")
        if ch == " ":
            result.append(current)
            current = ""
        elif cut > 0:
            result.append(current[:cut])
            current = current[cut + 1 :] + ch
        else:
            result.append(current)
            current = ch
        if len(result) == lines:
            break
    else:
        if current:
            result.append(current)
        return result
    last = result[-1]
    while last and text_units(last + "…") > units:
        last = last[:-1]
    result[-1] = last.rstrip() + "…"
    return result


@dataclass(frozen=True)
class _Lane:
    key: tuple[str, int | None]
    label: str


def _lane_key(step: SopStep) -> tuple[str, int | None]:
    return (step.owner, step.team_id if step.owner == StepOwner.BACK_OFFICE else None)


def _lane_label(step: SopStep) -> str:
    if step.owner == StepOwner.BACK_OFFICE and step.team_id is not None and step.team is not None:
        return step.team.name
    return str(StepOwner(step.owner).label)


def _minutes_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


def _stages(steps: Sequence[SopStep]) -> list[int]:
    stages: list[int] = []
    stage = -1
    previous: str | None = None
    for step in steps:
        if not step.parallel_group or step.parallel_group != previous:
            stage += 1
        previous = step.parallel_group or None
        stages.append(stage)
    return stages


def sop_flowchart_svg(version: SopVersion) -> SafeString:
    """The version's flowchart. Load the version with `selectors.sop_version_get` (steps with their
    teams and checkpoints prefetched): drawing it then reads nothing."""
    steps = list(version.steps.all())
    stages = _stages(steps)
    lanes: list[_Lane] = []
    for owner in StepOwner.values:  # frontline, field, back-office teams: in that order
        for step in steps:
            if step.owner == owner and all(lane.key != _lane_key(step) for lane in lanes):
                lanes.append(_Lane(_lane_key(step), _lane_label(step)))
    lane_index = {lane.key: i for i, lane in enumerate(lanes)}
    stage_count = (max(stages) + 1) if stages else 0
    # How many boxes stack in each lane at each stage: the lane is as tall as its fullest column.
    stacks: dict[tuple[int, int], int] = {}
    slots: list[tuple[int, int, int]] = []  # (lane, stage, slot within the column)
    for step, stage in zip(steps, stages, strict=True):
        lane_no = lane_index[_lane_key(step)]
        slot = stacks.get((lane_no, stage), 0)
        stacks[(lane_no, stage)] = slot + 1
        slots.append((lane_no, stage, slot))
    lane_heights = [
        max((stacks.get((lane, stage), 0) for stage in range(stage_count)), default=1)
        * (BOX_HEIGHT + BOX_GAP)
        - BOX_GAP
        + 2 * LANE_PADDING
        for lane in range(len(lanes))
    ]
    lane_tops = [HEADER_HEIGHT + sum(lane_heights[:i]) for i in range(len(lanes))]
    body_left = LABEL_WIDTH + TERMINAL_WIDTH
    width = body_left + stage_count * COLUMN_WIDTH + TERMINAL_WIDTH
    height = HEADER_HEIGHT + sum(lane_heights) + 8
    title = _("Flowchart of %(sop)s, version %(number)d") % {
        "sop": version.sop.name,
        "number": version.number,
    }

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sop-flowchart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="sop-flow-title-{version.pk}" '
        "font-family=\"system-ui, -apple-system, 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', sans-serif\" "
        'font-size="12">',
        f'<title id="sop-flow-title-{version.pk}">{escape(title)}</title>',
        "<defs>"
        '<marker id="sop-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#52606d"/></marker>'
        "</defs>",
    ]
    # Column headings: the stage numbers, "side by side" for parallel ones.
    for stage in range(stage_count):
        x = body_left + stage * COLUMN_WIDTH + COLUMN_WIDTH / 2
        count = stages.count(stage)
        heading = _("Stage %(n)d") % {"n": stage + 1}
        if count > 1:
            heading += " · " + ngettext("%(n)d step side by side", "%(n)d steps side by side", count) % {
                "n": count
            }
        parts.append(_svg_text(x, HEADER_HEIGHT - 12, heading, 'text-anchor="middle" fill="#52606d"'))
    # Swimlanes.
    for i, lane in enumerate(lanes):
        top = lane_tops[i]
        fill = "#f5f7fa" if i % 2 == 0 else "#ffffff"
        parts.append(
            f'<rect class="lane" x="0" y="{top}" width="{width}" height="{lane_heights[i]}" fill="{fill}" '
            'stroke="#cbd2d9"/>'
        )
        label_lines = wrap(lane.label, LABEL_UNITS, 3)
        middle = top + lane_heights[i] / 2 - (len(label_lines) - 1) * 8
        for n, line in enumerate(label_lines):
            parts.append(
                f'<text class="lane-label" x="12" y="{middle + n * 16 + 4:.0f}" font-weight="600" '
                f'fill="#1f2933">{escape(line)}</text>'
            )
        parts.append(
            f'<line x1="{LABEL_WIDTH}" y1="{top}" x2="{LABEL_WIDTH}" y2="{top + lane_heights[i]}" '
            'stroke="#cbd2d9"/>'
        )

    def box_position(index: int) -> tuple[float, float]:
        lane, stage, slot = slots[index]
        x = body_left + stage * COLUMN_WIDTH + (COLUMN_WIDTH - BOX_WIDTH) / 2
        y = lane_tops[lane] + LANE_PADDING + slot * (BOX_HEIGHT + BOX_GAP)
        return x, y

    # Start and end terminals in the first lane of the first and last steps.
    if steps:
        first_lane = slots[0][0]
        last_lane = slots[-1][0]
        start_y = lane_tops[first_lane] + LANE_PADDING + BOX_HEIGHT / 2
        end_y = lane_tops[last_lane] + LANE_PADDING + BOX_HEIGHT / 2
        start_x = LABEL_WIDTH + TERMINAL_WIDTH / 2
        end_x = body_left + stage_count * COLUMN_WIDTH + TERMINAL_WIDTH / 2
        parts.append(f'<circle cx="{start_x}" cy="{start_y}" r="14" fill="#3e4c59"/>')
        parts.append(_svg_text(start_x, start_y + 30, _("Start"), 'text-anchor="middle" fill="#52606d"'))
        parts.append(
            f'<circle cx="{end_x}" cy="{end_y}" r="14" fill="#ffffff" stroke="#3e4c59" stroke-width="4"/>'
        )
        parts.append(_svg_text(end_x, end_y + 30, _("Done"), 'text-anchor="middle" fill="#52606d"'))
        # Arrows: start → first stage, stage n → stage n+1, last stage → end.
        by_stage: dict[int, list[int]] = {}
        for index, stage in enumerate(stages):
            by_stage.setdefault(stage, []).append(index)
        for index in by_stage[0]:
            x, y = box_position(index)
            parts.append(_arrow(start_x + 14, start_y, x, y + BOX_HEIGHT / 2))
        for stage in range(stage_count - 1):
            for a in by_stage[stage]:
                ax, ay = box_position(a)
                for b in by_stage[stage + 1]:
                    bx, by = box_position(b)
                    parts.append(_arrow(ax + BOX_WIDTH, ay + BOX_HEIGHT / 2, bx, by + BOX_HEIGHT / 2))
        for index in by_stage[stage_count - 1]:
            x, y = box_position(index)
            parts.append(_arrow(x + BOX_WIDTH, y + BOX_HEIGHT / 2, end_x - 16, end_y))
    # Step boxes on top of the arrows.
    for index, step in enumerate(steps):
        x, y = box_position(index)
        parts.append(_box(step, x, y))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)


def _svg_text(x: float, y: float, text: str, attributes: str) -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" {attributes}>{escape(text)}</text>'


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    if abs(y1 - y2) < 1:
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
    else:
        middle = (x1 + x2) / 2
        path = f"M{x1:.0f},{y1:.0f} C{middle:.0f},{y1:.0f} {middle:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
    return (
        f'<path class="flow" d="{path}" fill="none" stroke="#52606d" stroke-width="1.4" '
        'marker-end="url(#sop-arrow)"/>'
    )


def _box(step: SopStep, x: float, y: float) -> str:
    checkpoints = list(step.checkpoints.all())
    critical = sum(1 for checkpoint in checkpoints if checkpoint.critical)
    stroke = "#2f6fde" if step.is_milestone else "#7b8794"
    parts = [
        f'<g class="step" data-key="{escape(step.key)}">',
        f"<title>{escape(step.name)}</title>",
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="8" fill="#ffffff" '
        f'stroke="{stroke}" stroke-width="{2 if step.is_milestone else 1.2}"/>',
    ]
    for n, line in enumerate(wrap(step.name, NAME_UNITS, 2)):
        parts.append(_svg_text(x + 10, y + 20 + n * 15, line, 'font-weight="600" fill="#1f2933"'))
    facts = _("≤ %(time)s") % {"time": _minutes_label(step.time_standard_minutes)}
    parts.append(_svg_text(x + 10, y + BOX_HEIGHT - 12, facts, 'class="time" fill="#3e4c59"'))
    if checkpoints:
        label = ngettext("%(n)d checkpoint", "%(n)d checkpoints", len(checkpoints)) % {"n": len(checkpoints)}
        colour = "#c81e1e" if critical else "#52606d"
        parts.append(
            f'<text class="checkpoints" x="{x + BOX_WIDTH - 10:.0f}" y="{y + BOX_HEIGHT - 12:.0f}" '
            'text-anchor="end" '
            f'fill="{colour}"><title>{escape(_checkpoint_summary(len(checkpoints), critical))}</title>'
            f"◆ {escape(label)}</text>"
        )
    if step.is_milestone:
        flag = wrap(step.milestone_name or step.name, NAME_UNITS - 4, 1)[0]
        parts.append(
            f'<text class="milestone" x="{x + 10:.0f}" y="{y - 4:.0f}" fill="#2f6fde" font-size="11">'
            f"⚑ {escape(flag)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _checkpoint_summary(total: int, critical: int) -> str:
    text = ngettext("%(n)d quality checkpoint", "%(n)d quality checkpoints", total) % {"n": total}
    if critical:
        text += " · " + ngettext("%(n)d critical", "%(n)d critical", critical) % {"n": critical}
    return text
