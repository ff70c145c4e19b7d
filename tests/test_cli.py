"""The `pledge` command as a user runs it: in a subprocess, on SQLite in its own data folder."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pledge.demo.data import DEMO_LOGINS, DEMO_PASSWORD

SECRET = "a-long-random-production-secret-key-for-the-test-only-0123456789"


def pledge_command() -> list[str]:
    script = Path(sys.executable).with_name("pledge")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pledge.cli"]


def pledge_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a user who set nothing but their data folder (and `extra`)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PLEDGE_") and key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["PLEDGE_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*pledge_command(), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    log: Path
    base: str

    def wait_until_up(self, path: str, timeout: float = 120) -> tuple[int, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                return get(self.base + path)
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"server did not answer within {timeout} s:\n{self.log.read_text()}")

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=40)


StartServer = Callable[[list[str], dict[str, str], int], Server]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    started: list[Server] = []

    def start(args: list[str], env: dict[str, str], port: int) -> Server:
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*pledge_command(), *args], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(process, log, f"http://127.0.0.1:{port}")
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One demo database for the module: `pledge demo --no-serve` in an empty data folder."""
    data_dir = tmp_path_factory.mktemp("demo")
    return data_dir, run(["demo", "--no-serve"], pledge_env(data_dir), timeout=300)


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_demo_no_serve_creates_the_database_and_prints_the_logins(
    demo_dir: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    data_dir, result = demo_dir
    assert result.returncode == 0, result.stderr
    database = data_dir / "pledge.sqlite3"
    assert database.exists()
    assert 550 <= count(database, "tickets_ticket") <= 650
    assert count(database, "customers_organisation") == 20
    for username, _hint in DEMO_LOGINS:
        assert f"\n  {username} " in result.stdout
    assert DEMO_PASSWORD in result.stdout
    for path in ("/portal/", "/agent/", "/admin/", "/api/v1/docs"):
        assert f"http://127.0.0.1:8000{path}" in result.stdout
    assert "Traceback" not in result.stderr


def test_demo_again_adds_nothing(demo_dir: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    data_dir, first = demo_dir
    assert first.returncode == 0, first.stderr
    database = data_dir / "pledge.sqlite3"
    tables = (
        "tickets_ticket",
        "tickets_ticketevent",
        "customers_asset",
        "accounts_user",
        "customers_contact",
    )
    before = {table: count(database, table) for table in tables}
    again = run(["demo", "--no-serve"], pledge_env(data_dir))
    assert again.returncode == 0, again.stderr
    assert {table: count(database, table) for table in tables} == before


def test_demo_serves_the_sign_in_page_and_stops_on_sigterm(
    demo_dir: tuple[Path, subprocess.CompletedProcess[str]], start_server: StartServer
) -> None:
    data_dir, first = demo_dir
    assert first.returncode == 0, first.stderr
    port = free_port()
    server = start_server(["demo", "--port", str(port)], pledge_env(data_dir), port)
    status, page = server.wait_until_up("/accounts/login/")
    assert status == 200
    assert 'name="password"' in page
    assert get(server.base + "/static/pledge/pledge.css")[0] == 200
    assert get(server.base + "/healthz")[0] == 200
    assert server.terminate() == 0
    assert f"http://127.0.0.1:{port}/agent/" in server.log.read_text()


def test_demo_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["demo", "--port", str(port)], pledge_env(tmp_path))
    assert result.returncode == 2
    assert "already in use" in assert_one_line_error(result)
    assert not (tmp_path / "pledge.sqlite3").exists()  # it failed before loading anything


def test_serve_refuses_the_demo_secret_key(tmp_path: Path) -> None:
    result = run(["serve"], pledge_env(tmp_path, PLEDGE_ALLOWED_HOSTS="pledge.example.com"))
    assert result.returncode == 2
    assert "PLEDGE_SECRET_KEY" in assert_one_line_error(result)


def test_serve_refuses_without_allowed_hosts(tmp_path: Path) -> None:
    result = run(["serve"], pledge_env(tmp_path, PLEDGE_SECRET_KEY=SECRET))
    assert result.returncode == 2
    assert "PLEDGE_ALLOWED_HOSTS" in assert_one_line_error(result)


def test_serve_refuses_unapplied_migrations(tmp_path: Path) -> None:
    env = pledge_env(tmp_path, PLEDGE_SECRET_KEY=SECRET, PLEDGE_ALLOWED_HOSTS="127.0.0.1")
    result = run(["serve", "--bind", f"127.0.0.1:{free_port()}"], env)
    assert result.returncode == 2
    assert "pledge migrate" in assert_one_line_error(result)


def test_serve_runs_workers_with_collected_static_files_and_stops_on_sigterm(
    tmp_path: Path, start_server: StartServer
) -> None:
    env = pledge_env(tmp_path, PLEDGE_SECRET_KEY=SECRET, PLEDGE_ALLOWED_HOSTS="127.0.0.1,localhost")
    migrated = run(["migrate", "--verbosity", "0"], env)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = start_server(
        ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "2"], env, port
    )
    status, body = server.wait_until_up("/healthz")
    assert status == 200
    assert '"ok"' in body
    status, page = get(server.base + "/accounts/login/")
    assert status == 200
    hashed = next(
        part
        for part in page.split('"')
        if part.startswith("/static/pledge/pledge.") and part.endswith(".css")
    )
    assert hashed != "/static/pledge/pledge.css"  # the manifest storage names files by content
    assert get(server.base + hashed)[0] == 200
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert server.terminate() == 0
    log = server.log.read_text()
    assert log.count("Booting worker") == 2
    assert "Traceback" not in log


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--port", "abc"],
        ["demo", "--port", "70000"],
        ["demo", "--bogus"],
        ["serve", "--workers", "0"],
        ["serve", "--bind", "nonsense"],
        ["migrate", "--bogus"],
        ["no-such-command"],
        ["worker", "--bogus"],
        ["worker", "--interval", "abc"],
        ["worker", "--max-tasks", "0"],
        ["demo", "--no-worker", "--bogus"],
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, args: list[str]) -> None:
    result = run(args, pledge_env(tmp_path))
    assert result.returncode == 2
    assert_one_line_error(result)


@pytest.mark.parametrize("url", ["mysql://root@localhost/pledge", "postgres://user@host:not-a-port/pledge"])
def test_bad_database_url_is_one_line(tmp_path: Path, url: str) -> None:
    result = run(["check"], pledge_env(tmp_path, DATABASE_URL=url))
    assert "DATABASE_URL" in assert_one_line_error(result)


def test_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    env = pledge_env(tmp_path, DATABASE_URL="postgres://postgres@127.0.0.1:1/pledge_nowhere")
    for args in (["migrate"], ["demo", "--no-serve"]):
        result = run(args, env)
        assert "cannot use the database" in assert_one_line_error(result)


def test_other_commands_pass_through_to_django(tmp_path: Path) -> None:
    result = run(["check"], pledge_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    listing = run(["help-all"], pledge_env(tmp_path))
    assert listing.returncode == 0
    assert "makemigrations" in listing.stdout
    assert "migrate" in listing.stdout


ENQUEUE = "from pledge.tickets.tasks import notify_ticket_created as t; print(t.enqueue(0).id)"


def enqueue_task(env: dict[str, str]) -> str:
    """Enqueue a real task with the default backend (the database queue); returns its id."""
    result = run(["shell", "-c", ENQUEUE], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def task_status(database: Path, task_id: str) -> str:
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = ?", (uuid.UUID(task_id).hex,)
        ).fetchone()
    return str(row[0])


def sweep_runs(database: Path, name: str) -> int:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT runs FROM core_periodicsweep WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else 0


def test_worker_help_and_the_command_list_describe_it(tmp_path: Path) -> None:
    listing = run(["--help"], pledge_env(tmp_path))
    assert listing.returncode == 0
    assert "\n  worker " in listing.stdout
    result = run(["worker", "--help"], pledge_env(tmp_path))
    assert result.returncode == 0, result.stderr
    for option in ("--worker-id", "--queue-name", "--interval", "--max-tasks", "--batch", "--no-sweeps"):
        assert option in result.stdout


def test_worker_refuses_unapplied_migrations(tmp_path: Path) -> None:
    result = run(["worker"], pledge_env(tmp_path))
    assert result.returncode == 2
    assert "pledge migrate" in assert_one_line_error(result)


def test_worker_batch_runs_the_waiting_tasks_and_the_due_sweeps(tmp_path: Path) -> None:
    env = pledge_env(tmp_path)
    assert run(["migrate", "--verbosity", "0"], env).returncode == 0
    database = tmp_path / "pledge.sqlite3"
    task_id = enqueue_task(env)
    assert task_status(database, task_id) == "READY"

    result = run(["worker", "--batch", "--worker-id", "batch-1"], env)

    assert result.returncode == 0, result.stderr
    assert "batch-1" in result.stdout
    assert "prune-task-results every 1 h" in result.stdout
    assert task_status(database, task_id) == "SUCCESSFUL"
    assert sweep_runs(database, "prune-task-results") == 1
    assert "Traceback" not in result.stderr


def test_demo_runs_a_background_worker_unless_told_not_to(
    demo_dir: tuple[Path, subprocess.CompletedProcess[str]], start_server: StartServer
) -> None:
    data_dir, first = demo_dir
    assert first.returncode == 0, first.stderr
    database = data_dir / "pledge.sqlite3"
    env = pledge_env(data_dir)
    task_id = enqueue_task(env)
    with sqlite3.connect(database) as db:  # make the sweep due, should another test's demo have run it
        db.execute("UPDATE core_periodicsweep SET next_run_at = '2000-01-01 00:00:00'")
    sweeps_before = sweep_runs(database, "prune-task-results")

    port = free_port()
    quiet = start_server(["demo", "--port", str(port), "--no-worker"], env, port)
    assert quiet.wait_until_up("/healthz")[0] == 200
    time.sleep(2)  # a worker would have taken the task by now
    assert task_status(database, task_id) == "READY"
    assert quiet.terminate() == 0
    assert "Background worker" not in quiet.log.read_text()

    port = free_port()
    server = start_server(["demo", "--port", str(port)], env, port)
    assert server.wait_until_up("/healthz")[0] == 200
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (
        task_status(database, task_id) != "SUCCESSFUL"
        or sweep_runs(database, "prune-task-results") == sweeps_before
    ):
        time.sleep(0.2)
    assert server.terminate() == 0
    assert task_status(database, task_id) == "SUCCESSFUL"  # the task left waiting ran once a worker came
    assert sweep_runs(database, "prune-task-results") == sweeps_before + 1  # one slot, two processes
    log = server.log.read_text()
    assert "Background worker: runs in the server" in log
    assert "Traceback" not in log


def test_env_example_lists_every_variable_the_settings_read() -> None:
    root = Path(__file__).resolve().parents[1]
    settings_source = (root / "src" / "pledge" / "config" / "settings.py").read_text()
    read = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', settings_source))
    documented = set(re.findall(r"^#? ?([A-Z_]+)=", (root / ".env.example").read_text(), re.MULTILINE))
    assert "DATABASE_URL" in read
    assert read <= documented, read - documented


def test_an_unexpected_error_is_one_line_unless_a_traceback_is_asked_for(tmp_path: Path) -> None:
    env = pledge_env(tmp_path)
    assert run(["migrate", "-v0"], env).returncode == 0
    code = "raise LookupError('the migration graph is broken')"
    line = assert_one_line_error(run(["shell", "-c", code], env))
    assert line.startswith("pledge shell: unexpected error (LookupError): the migration graph is broken")
    assert "PLEDGE_TRACEBACK=1" in line
    verbose = run(["shell", "-c", code], {**env, "PLEDGE_TRACEBACK": "1"})
    assert verbose.returncode != 0
    assert "Traceback" in verbose.stderr
