"""The Simplified Chinese translation is complete and its compiled catalogue matches the source."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

LOCALE = Path(__file__).resolve().parents[1] / "src" / "pledge" / "locale" / "zh_Hans" / "LC_MESSAGES"


def _entries() -> list[str]:
    text = (LOCALE / "django.po").read_text(encoding="utf-8")
    return [block for block in text.split("\n\n") if "msgid" in block][1:]  # skip the header


def _unquote(block: str, key: str) -> str:
    match = re.search(rf'^{key} ((?:".*"\n?)+)', block + "\n", re.MULTILINE)
    assert match, block
    raw = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1)))
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), raw)


def test_every_entry_is_translated_and_none_is_fuzzy() -> None:
    problems = []
    for block in _entries():
        if block.lstrip().startswith("#~"):
            continue  # obsolete entries are ignored by gettext
        if "#, fuzzy" in block:
            problems.append(block)
        elif "msgstr[0]" in block:
            if not _unquote(block, r"msgstr\[0\]"):
                problems.append(block)
        elif not _unquote(block, "msgstr"):
            problems.append(block)
    assert problems == []


def test_compiled_catalogue_matches_the_source() -> None:
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    missing = []
    for block in _entries():
        if block.lstrip().startswith("#~") or "msgid_plural" in block:
            continue
        msgid = _unquote(block, "msgid")
        context = _unquote(block, "msgctxt") if "\nmsgctxt " in "\n" + block else None
        expected = _unquote(block, "msgstr")
        got = catalogue.pgettext(context, msgid) if context else catalogue.gettext(msgid)
        if got != expected:
            missing.append(msgid)
    assert missing == [], "run `pledge compilemessages` after editing the .po file"


@pytest.mark.parametrize(
    ("english", "chinese"),
    [("Sign in", "登录"), ("Waiting on customer", "等待客户"), ("P1 · Critical", "P1 · 紧急")],
)
def test_interface_speaks_chinese(english: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
