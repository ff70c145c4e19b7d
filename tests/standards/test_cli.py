"""`pledge calendars`, `pledge holidays` and `pledge sla due` as a user runs them: subprocesses on SQLite
in their own data folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.standards.helpers import OFFICE, OFFICE_YAML, SCHEDULE_2027, SHANGHAI
from tests.test_cli import assert_one_line_error, pledge_command, pledge_env, run


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the issue's cn-office calendar."""
    folder = tmp_path_factory.mktemp("calendars")
    migrated = run(["migrate", "-v0"], pledge_env(folder))
    assert migrated.returncode == 0, migrated.stderr
    (folder / "office.yaml").write_text(OFFICE_YAML, encoding="utf-8")
    imported = run(["calendars", "import", str(folder / "office.yaml")], pledge_env(folder))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "cn-office: created (version 1)"
    return folder


def sla_due(data_dir: Path, args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pledge_command(), "sla", "due", "--calendar", "cn-office", *args],
        env=pledge_env(data_dir),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_writes_what_was_imported(data_dir: Path) -> None:
    as_json = run(["calendars", "export", "cn-office", "--format", "json"], pledge_env(data_dir))
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == OFFICE
    as_yaml = run(["calendars", "export", "cn-office"], pledge_env(data_dir))
    assert as_yaml.returncode == 0
    assert as_yaml.stdout.startswith("# Pledge business calendar cn-office, version 1\n")
    assert "name: 中国标准工作日历" in as_yaml.stdout
    # The export imports again as the same calendar: nothing changes.
    (data_dir / "exported.yaml").write_text(as_yaml.stdout, encoding="utf-8")
    again = run(["calendars", "import", str(data_dir / "exported.yaml")], pledge_env(data_dir))
    assert again.stdout.strip() == "cn-office: unchanged (version 1)"


def test_list_shows_the_calendars(data_dir: Path) -> None:
    listed = run(["calendars", "list"], pledge_env(data_dir))
    assert listed.returncode == 0
    header, row = listed.stdout.splitlines()
    assert header.split()[:3] == ["code", "version", "time"]
    assert row.split() == ["cn-office", "1", "Asia/Shanghai", "cn-statutory", "-", "中国标准工作日历"]


def test_a_bad_file_is_refused_in_one_line_naming_the_line_or_field(data_dir: Path) -> None:
    bad_yaml = data_dir / "broken.yaml"
    bad_yaml.write_text(
        'code: cn-office\nname: x\nweekly:\n  mon: ["09:00-12:00"\n  tue: []\n', encoding="utf-8"
    )
    line = assert_one_line_error(run(["calendars", "import", str(bad_yaml)], pledge_env(data_dir)))
    assert line.startswith(f"pledge calendars: {bad_yaml}: line 5, column 3: ")
    bad_field = data_dir / "bad-field.json"
    bad_field.write_text(json.dumps({**OFFICE, "weekly": {"tue": ["25:00-26:00"]}}), encoding="utf-8")
    line = assert_one_line_error(run(["calendars", "import", str(bad_field)], pledge_env(data_dir)))
    assert 'weekly.tue[0]: "25:00-26:00" is not a time range' in line
    missing = assert_one_line_error(
        run(["calendars", "import", str(data_dir / "nope.yaml")], pledge_env(data_dir))
    )
    assert "cannot read" in missing
    unknown = assert_one_line_error(run(["calendars", "export", "nope"], pledge_env(data_dir)))
    assert "nope" in unknown
    # Nothing changed.
    listed = run(["calendars", "list"], pledge_env(data_dir))
    assert listed.stdout.splitlines()[1].split()[:2] == ["cn-office", "1"]


def test_one_question(data_dir: Path) -> None:
    # Friday 13 Feb 17-18; Saturday 14 (make-up) 8 h; the festival; 24-26 Feb 24 h; Friday 27 09-11.
    answered = sla_due(data_dir, ["--start", "2026-02-13T17:00:00+08:00", "--minutes", "2100"])
    assert answered.returncode == 0, answered.stderr
    assert answered.stdout == "2026-02-27T11:00:00+08:00\n"
    assert answered.stderr == ""
    # Without an offset the start is the calendar's local time.
    local = sla_due(data_dir, ["--start", "2026-02-13T17:00", "--minutes", "2100"])
    assert local.stdout == answered.stdout


def test_one_provisional_question_says_so_on_stderr(data_dir: Path) -> None:
    # Wednesday 30 Dec 17-18; 31 Dec is the calendar's own holiday; 1 Jan 2027 counts as a weekday.
    answered = sla_due(data_dir, ["--start", "2026-12-30T17:00:00+08:00", "--minutes", "120"])
    assert answered.returncode == 0
    assert answered.stdout == "2027-01-01T10:00:00+08:00\n"
    assert "provisional" in answered.stderr and "2027" in answered.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--start", "yesterday", "--minutes", "60"], "is not an ISO 8601"),
        (["--start", "2026-02-13T17:00"], "--minutes is required"),
        (["--start", "2026-02-13T17:00", "--minutes", "-5"], "not a number of minutes"),
        (["--start", "1900-01-01T00:00Z", "--minutes", "5"], "start: must lie between"),
        (["--calendar", "nope", "--start", "2026-02-13T17:00", "--minutes", "5"], "nope"),
    ],
)
def test_a_bad_question_is_one_line(data_dir: Path, args: list[str], words: str) -> None:
    assert words in assert_one_line_error(sla_due(data_dir, args))


def test_a_stream_of_questions_gets_a_line_each(data_dir: Path) -> None:
    lines = [
        {"start": "2026-02-13T17:00:00+08:00", "minutes": 960},
        {"start": "2026-02-13T09:00:00Z", "minutes": 2100},
        {"start": "2026-12-30T17:00:00+08:00", "minutes": 120},
    ]
    stdin = "".join(json.dumps(line) + "\n" for line in lines)
    answered = sla_due(data_dir, [], stdin)
    assert answered.returncode == 0, answered.stderr
    assert [json.loads(line) for line in answered.stdout.splitlines()] == [
        {"due": "2026-02-24T17:00:00+08:00"},
        {"due": "2026-02-27T11:00:00+08:00"},
        {"due": "2027-01-01T10:00:00+08:00", "provisional": True, "uncovered_years": [2027]},
    ]


def test_bad_lines_answer_an_error_each_and_exit_1(data_dir: Path) -> None:
    stdin = (
        '{"start": "2026-02-13T17:00:00+08:00", "minutes": 60}\n'
        "not json\n"
        '{"start": "2026-02-13T17:00:00+08:00", "minutes": -1}\n'
        '{"start": "soon", "minutes": 1}\n'
        "[1, 2]\n"
        '{"start": "2026-02-13T17:00:00+08:00"}\n'
        "\n"
        '{"start": "2026-02-16T08:00:00+08:00", "minutes": 0}\n'
    )
    answered = sla_due(data_dir, [], stdin)
    assert answered.returncode == 1
    assert "Traceback" not in answered.stderr
    out = [json.loads(line) for line in answered.stdout.splitlines()]
    assert out[0] == {"due": "2026-02-13T18:00:00+08:00"}
    assert [sorted(item) for item in out[1:6]] == [["error"]] * 5
    assert out[1]["error"].startswith("line 2: not JSON")
    assert out[2]["error"].startswith("line 3: minutes")
    assert out[3]["error"].startswith("line 4: start")
    assert out[5]["error"] == "line 6: minutes: missing"
    assert out[6] == {"due": "2026-02-16T08:00:00+08:00"}  # the blank line 7 is skipped
    # --minutes gives lines without minutes a default.
    defaulted = sla_due(data_dir, ["--minutes", "60"], '{"start": "2026-02-13T17:00:00+08:00"}\n')
    assert json.loads(defaulted.stdout) == {"due": "2026-02-13T18:00:00+08:00"}


def test_ten_thousand_questions_cost_one_process(data_dir: Path) -> None:
    first = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    stdin = "".join(
        json.dumps({"start": (first + timedelta(minutes=53 * i)).isoformat(), "minutes": (i * 37) % 5000})
        + "\n"
        for i in range(10_000)
    )
    started = time.monotonic()
    answered = sla_due(data_dir, [], stdin)
    seconds = time.monotonic() - started
    assert answered.returncode == 0, answered.stderr[-500:]
    answers = [json.loads(line) for line in answered.stdout.splitlines()]
    assert len(answers) == 10_000
    assert answers[0] == {"due": "2026-01-01T00:00:00+08:00"}  # 0 minutes: due at the start
    assert seconds < 30, seconds
    print(f"10,000 streamed questions: {seconds:.2f} s in one process")


def test_holiday_import_ends_the_provisional_flag_and_the_warning(data_dir: Path, tmp_path: Path) -> None:
    # A copy of the database, so that the other tests keep a 2027 without data.
    shutil.copy(data_dir / "pledge.sqlite3", tmp_path / "pledge.sqlite3")
    data_dir = tmp_path
    check = run(["check"], pledge_env(data_dir))
    assert check.returncode == 0
    (data_dir / "cn2027.json").write_text(json.dumps(SCHEDULE_2027, ensure_ascii=False), encoding="utf-8")
    imported = run(
        ["holidays", "import", str(data_dir / "cn2027.json"), "--set", "cn-statutory"], pledge_env(data_dir)
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "cn-statutory 2027: 10 holidays and 1 make-up workdays imported"
    listed = run(["holidays", "list"], pledge_env(data_dir))
    assert "cn-statutory: data for 2004–2027 (imported: 2027)" in listed.stdout
    # 30 Dec 17-18; 31 Dec (own holiday) and 1 Jan 2027 off, 2-3 Jan a weekend: Monday 4 Jan 09-10.
    answered = sla_due(data_dir, ["--start", "2026-12-30T17:00:00+08:00", "--minutes", "120"])
    assert answered.stdout == "2027-01-04T10:00:00+08:00\n"
    assert answered.stderr == ""
    check = run(["check"], pledge_env(data_dir))
    assert "no data for 2027" not in check.stdout + check.stderr
    bad = data_dir / "bad-schedule.yaml"
    bad.write_text("year: 2028\nholidays: [2028-02-30]\nmakeup_workdays: []\n", encoding="utf-8")
    line = assert_one_line_error(run(["holidays", "import", str(bad)], pledge_env(data_dir)))
    assert "holidays[0]: '2028-02-30' is not a calendar date" in line


def test_the_commands_on_a_database_without_tables_say_to_migrate(tmp_path: Path) -> None:
    line = assert_one_line_error(run(["calendars", "list"], pledge_env(tmp_path)))
    assert "pledge migrate" in line


def test_unknown_actions_are_one_line(data_dir: Path) -> None:
    assert "invalid choice" in assert_one_line_error(run(["calendars", "frobnicate"], pledge_env(data_dir)))
    assert "required" in assert_one_line_error(run(["sla"], pledge_env(data_dir)))
