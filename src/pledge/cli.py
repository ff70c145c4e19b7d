"""The `pledge` command: demo, serve, worker and every Django management command (migrate, check, …).

Errors a user can cause (a bad option, a bad DATABASE_URL, an unreachable database, a port in use, an
unsafe production configuration) end with one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, NoReturn

# Only called once settings are loaded (before that, messages stay in English).
from django.utils.translation import gettext as _

USAGE_ERROR = 2

logger = logging.getLogger("pledge.worker")


class CliError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    if command == "serve":
        # The production server serves the collected, hashed static files (workers inherit this).
        os.environ["PLEDGE_MANIFEST_STATIC"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledge.config.settings")
    try:
        import django

        django.setup()
    except Exception as exc:  # settings are user input: say what is wrong, in one line
        print(f"pledge: configuration error: {_one_line(exc)}", file=sys.stderr)
        return USAGE_ERROR

    from django.core.exceptions import ImproperlyConfigured
    from django.db import InterfaceError, OperationalError

    from pledge.core.errors import DomainError

    try:
        if not args or command in {"-h", "--help"} or args == ["help"]:
            _print_help()
            return 0
        if command == "demo":
            return _demo(args[1:])
        if command == "serve":
            return _serve(args[1:])
        if command == "worker":
            return _worker(args[1:])
        if command in _STANDARDS_COMMANDS:
            return _standards_command(command, args[1:])
        return _django_command(args)
    except CliError as exc:
        print(f"pledge {command}: {exc}", file=sys.stderr)
    except (OperationalError, InterfaceError) as exc:
        message = _("cannot use the database: %(error)s") % {"error": _one_line(exc)}
        print(f"pledge {command}: {message}", file=sys.stderr)
    except ImproperlyConfigured as exc:
        print(f"pledge {command}: configuration error: {_one_line(exc)}", file=sys.stderr)
    except DomainError as exc:
        print(f"pledge {command}: {_one_line(exc)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` or similar, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # anything else: still one line; PLEDGE_TRACEBACK=1 shows the traceback
        if os.environ.get("PLEDGE_TRACEBACK"):
            raise
        message = _(
            "unexpected error (%(kind)s): %(error)s — run again with PLEDGE_TRACEBACK=1 for details"
        ) % {
            "kind": type(exc).__name__,
            "error": _one_line(exc),
        }
        print(f"pledge {command}: {message}", file=sys.stderr)
        return 1
    return USAGE_ERROR


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _django_command(args: list[str]) -> int:
    """Any other command is Django's (migrate, check, createsuperuser, shell …)."""
    from django.core.management import execute_from_command_line, get_commands
    from django.core.management.base import CommandParser

    if args[0] == "help-all":
        args = ["help"]
    elif args[0] not in {*get_commands(), "help"} and not args[0].startswith("-"):
        raise CliError(_("unknown command (pledge help-all lists every command)"))

    django_error = CommandParser.error

    def one_line_error(parser: CommandParser, message: str) -> NoReturn:
        if not parser.called_from_command_line:  # call_command() inside the command: Django's way
            django_error(parser, message)
        raise CliError(_("%(error)s (see %(prog)s --help)") % {"error": message, "prog": parser.prog})

    # Django's parsers print their whole usage for a bad option; say it in one line like ours.
    setattr(CommandParser, "error", one_line_error)  # noqa: B010 - assigning a method on purpose
    execute_from_command_line(["pledge", *args])
    return 0


def _print_help() -> None:
    print(
        _(
            "usage: pledge COMMAND [options]\n\n"
            "  demo       create or update the demo database and serve it on 127.0.0.1:8000\n"
            "  serve      run the production server (several worker processes)\n"
            "  worker     run background tasks and periodic sweeps (beside pledge serve)\n"
            "  migrate    apply database migrations\n"
            "  check      check the installation\n"
            "  calendars  import, export and list business calendars\n"
            "  holidays   import a new year's official holiday schedule, list the years known\n"
            "  sla due    when is a target due on a calendar (one question, or JSON lines on stdin)\n"
            "  standards export  the standards handbook in effect on a date (HTML or Markdown)\n"
            "  …          any Django management command (pledge help-all lists them)\n\n"
            "pledge demo --help, pledge serve --help, pledge worker --help and pledge calendars --help list\n"
            "their options."
        )
    )


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one line instead of usage text and exit(2)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(_("%(error)s (see %(prog)s --help)") % {"error": message, "prog": self.prog})


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a port number: %(value)r") % {"value": text}) from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(_("a port is between 1 and 65535, not %(value)d") % {"value": port})
    return port


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a whole number: %(value)r") % {"value": text}) from None
    if value < 1:
        raise argparse.ArgumentTypeError(_("must be at least 1, not %(value)d") % {"value": value})
    return value


def _listen(host: str, port: int) -> int:
    """Listen on host:port now, so a port in use fails at once; returns the socket's fd for gunicorn."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(_cannot_listen(host, port, exc.strerror)) from None
    family, _type, _proto, _name, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                _("port %(port)d on %(host)s is already in use; stop the other server or choose another port")
                % {"port": port, "host": host}
            ) from None
        raise CliError(_cannot_listen(host, port, exc.strerror)) from None
    sock.set_inheritable(True)
    return sock.detach()  # gunicorn takes the descriptor over and closes it


def _cannot_listen(host: str, port: int, reason: str | None) -> str:
    return _("cannot listen on %(host)s:%(port)d: %(reason)s") % {
        "host": host,
        "port": port,
        "reason": reason,
    }


def _run_gunicorn(
    *,
    bind: str,
    workers: int,
    threads: int,
    access_log: bool,
    log_level: str,
    background_worker: bool = False,
) -> None:
    """Run gunicorn in this process (it becomes the master; SIGTERM or Ctrl+C stops it gracefully).

    With `background_worker`, each server process also runs the task queue and the sweeps in threads
    (`pledge demo`): see _BackgroundWorker for why there and not in this process."""
    from django.db import connections
    from gunicorn.app.base import BaseApplication

    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": log_level,
        "graceful_timeout": 20,
        "proc_name": "pledge",
        # gunicorn ≥ 24 opens a control socket in the home folder by default; two servers would share it.
        "control_socket_disable": True,
    }
    if background_worker:
        options["post_worker_init"] = _start_background_worker
        options["worker_exit"] = _stop_background_worker

    class PledgeServer(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from pledge.config.wsgi import application

            return application

    # Workers are forked from this process: they must not share its database connections.
    connections.close_all()
    PledgeServer().run()


def _public_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host  # noqa: S104 - wildcard, shown as loopback
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _database_label() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return str(db["NAME"])
    return _("PostgreSQL %(name)s on %(host)s:%(port)s") % {
        "name": db.get("NAME"),
        "host": db.get("HOST") or "localhost",
        "port": db.get("PORT") or 5432,
    }


# --- pledge demo ------------------------------------------------------------------------------------


def _demo(argv: list[str]) -> int:
    from django.core.management import call_command

    from pledge.demo.data import COMPANY, DEMO_PASSWORD
    from pledge.demo.loader import DemoRefused, load_demo

    parser = _Parser(
        prog="pledge demo",
        description=_("Create or update the demo database, print the logins and serve it."),
    )
    parser.add_argument("--port", type=_port, default=8000, help=_("port to serve on (default 8000)"))
    parser.add_argument("--host", default="127.0.0.1", help=_("address to serve on (default 127.0.0.1)"))
    parser.add_argument("--no-serve", action="store_true", help=_("load the demo and exit"))
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help=_("serve without running background tasks and periodic sweeps"),
    )
    opts = parser.parse_args(argv)
    if not opts.no_serve and not opts.no_worker:
        _uses_task_queue()  # a bad PLEDGE_TASKS_BACKEND fails here, in one line

    fd = None if opts.no_serve else _listen(opts.host, opts.port)
    print(_("Preparing the demo database: %(db)s") % {"db": _database_label()}, flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    print(_("Loading the demo company (the first run takes up to a minute)…"), flush=True)
    try:
        summary = load_demo()
    except DemoRefused as exc:
        raise CliError(
            _("%(error)s (set PLEDGE_DATA_DIR or DATABASE_URL to another database)") % {"error": exc}
        ) from None

    url = _public_url(opts.host, opts.port)
    print()
    print(_("Pledge demo · %(company)s") % {"company": COMPANY})
    print(
        _(
            "%(orgs)d customer organisations, %(assets)d assets, %(contracts)d contracts, %(tickets)d tickets"
            " (%(new)d loaded now)"
        )
        % {
            "orgs": summary.organisations,
            "assets": summary.assets,
            "contracts": summary.contracts,
            "tickets": summary.tickets,
            "new": summary.tickets_created,
        }
    )
    print()
    pages = [
        (_("Sign in"), f"{url}/accounts/login/"),
        (_("Agent workspace"), f"{url}/agent/"),
        (_("Customer portal"), f"{url}/portal/"),
        (_("Admin"), f"{url}/admin/"),
        (_("API docs"), f"{url}/api/v1/docs"),
    ]
    width = max(len(label) for label, _link in pages)
    for label, link in pages:
        print(f"  {label.ljust(width)}  {link}")
    print()
    print(_("Demo logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD})
    rows = [(_("username"), _("role"), _("what to try"))]
    for login in summary.logins:
        hint = f"{login.hint} ({login.context})" if login.context else login.hint
        rows.append((login.username, login.role, hint))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for username, role, hint in rows:
        print(f"  {username.ljust(widths[0])}  {role.ljust(widths[1])}  {hint}")
    print()
    if fd is None:
        return 0
    if opts.host not in {"127.0.0.1", "localhost", "::1"} and not os.environ.get("PLEDGE_ALLOWED_HOSTS"):
        print(_("Other machines reach it only by a host name listed in PLEDGE_ALLOWED_HOSTS."))
    if not opts.no_worker:
        print(_("Background worker: runs in the server (tasks and periodic sweeps; --no-worker stops it)."))
    print(_("Serving on %(url)s — press Ctrl+C to stop.") % {"url": url}, flush=True)
    _run_gunicorn(
        bind=f"fd://{fd}",
        workers=2,
        threads=4,
        access_log=False,
        log_level="warning",
        background_worker=not opts.no_worker,
    )
    return 0


# --- pledge serve -----------------------------------------------------------------------------------


def _parse_bind(text: str) -> tuple[str, int] | None:
    """host:port → (host, port); unix:/path → None (gunicorn binds it)."""
    if text.startswith("unix:"):
        if not text[5:]:
            raise argparse.ArgumentTypeError(_("unix: needs a socket path, e.g. unix:/run/pledge.sock"))
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError(
            _("expected HOST:PORT or unix:PATH, not %(value)r") % {"value": text}
        )
    return host.strip("[]"), _port(port)


def _bind(text: str) -> str:
    _parse_bind(text)
    return text


def _default_workers() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 * cores + 1


def _serve(argv: list[str]) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    parser = _Parser(
        prog="pledge serve",
        description=_("Run the production server (gunicorn) against the configured database."),
    )
    parser.add_argument(
        "--bind",
        type=_bind,
        default="127.0.0.1:8000",
        help=_("HOST:PORT or unix:PATH to listen on (default 127.0.0.1:8000)"),
    )
    parser.add_argument(
        "--workers",
        type=_positive,
        default=_default_workers(),
        help=_("worker processes (default 2 × cores + 1)"),
    )
    # One thread per process: request handling is CPU-bound Python, so threads in one process mostly
    # wait for each other's GIL (measured: +10 % CPU per request and twice the p99 with two threads).
    parser.add_argument(
        "--threads", type=_positive, default=1, help=_("threads per worker (default 1: sync workers)")
    )
    opts = parser.parse_args(argv)

    if settings.SECRET_KEY == settings.DEMO_SECRET_KEY:
        raise CliError(
            _(
                "refusing to start with the public demo secret key: "
                "set PLEDGE_SECRET_KEY to a long random value"
            )
        )
    if not os.environ.get("PLEDGE_ALLOWED_HOSTS", "").strip():
        raise CliError(
            _("refusing to start without PLEDGE_ALLOWED_HOSTS: set it to the host names clients use")
        )
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError(_("the database has unapplied migrations: run pledge migrate first"))
    address = _parse_bind(opts.bind)
    bind = opts.bind if address is None else f"fd://{_listen(*address)}"  # a port in use fails here
    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except OSError as exc:
        raise CliError(
            _("cannot collect static files into %(root)s: %(error)s")
            % {"root": settings.STATIC_ROOT, "error": exc.strerror or exc}
        ) from None
    print(
        _("Pledge serving on %(bind)s: %(workers)d workers × %(threads)d threads, database %(db)s")
        % {"bind": opts.bind, "workers": opts.workers, "threads": opts.threads, "db": _database_label()},
        flush=True,
    )
    _run_gunicorn(bind=bind, workers=opts.workers, threads=opts.threads, access_log=True, log_level="info")
    return 0


# --- pledge worker ----------------------------------------------------------------------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a number of seconds: %(value)r") % {"value": text}) from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(_("must be more than 0 seconds, not %(value)s") % {"value": text})
    return value


def _worker_id(text: str) -> str:
    if not text.strip() or len(text) > 64:
        raise argparse.ArgumentTypeError(
            _("a worker id has 1 to 64 characters, not %(value)r") % {"value": text}
        )
    return text


def _queue_names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or any(len(name) > 32 for name in names):
        raise argparse.ArgumentTypeError(
            _("expected queue names of 1 to 32 characters separated by commas, or *, not %(value)r")
            % {"value": text}
        )
    return names


def _default_worker_id() -> str:
    return f"{socket.gethostname()[:50]}-{os.getpid()}"


def _uses_task_queue() -> bool:
    """Whether tasks go to the database queue (rather than running where they are enqueued)."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
    from django_tasks.exceptions import InvalidTaskBackendError
    from django_tasks_db.backend import DatabaseBackend

    try:
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
    except InvalidTaskBackendError as exc:
        raise CliError(_("PLEDGE_TASKS_BACKEND: %(error)s") % {"error": _one_line(exc)}) from None
    return isinstance(backend, DatabaseBackend)


def _task_worker(
    *, worker_id: str, queue_names: list[str], interval: float, max_tasks: int | None, batch: bool
) -> Any:
    """django-tasks-db's own worker loop (`db_worker`), used as a library: it claims each task with
    SELECT … FOR UPDATE SKIP LOCKED (an exclusive transaction on SQLite), so a task runs once."""
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS
    from django_tasks_db.management.commands.db_worker import Worker

    return Worker(
        queue_names=queue_names,
        interval=interval,
        batch=batch,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=not batch,  # spread the first polls of workers started together
        max_tasks=max_tasks,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def _run_through_locks(worker: Any, interval: float) -> None:
    """Run the task loop; on SQLite a writer holding the database longer than the busy timeout (a
    machine under heavy load) makes the loop's transaction fail with "database is locked": wait and go
    on rather than stop the worker. Any other database error still ends it."""
    from django.db import OperationalError
    from django_tasks_db.utils import is_locked_database_exception

    while True:
        try:
            worker.run()
            return
        except OperationalError as exc:
            if not is_locked_database_exception(exc) or not worker.running:
                raise
            logger.warning("The database is locked; the task loop tries again in %.1f s", interval)
            time.sleep(max(interval, 0.1))


def _duration(every: timedelta) -> str:
    seconds = every.total_seconds()
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _worker(argv: list[str]) -> int:
    """The task loop runs in this (the main) thread, as db_worker runs it, so its signal handling
    applies: SIGTERM or Ctrl+C lets the running task finish. The sweeps run in a daemon thread beside
    it rather than interleaved in the loop: the loop is the library's (we reuse it, not copy it), and a
    long sweep must not hold up notification mails, nor a long task a sweep's slot."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from pledge.core.periodic import SweepScheduler, registered, run_due_sweeps

    parser = _Parser(
        prog="pledge worker",
        description=_(
            "Run the background tasks from the database queue and the periodic sweeps until stopped. "
            "Run one or more beside pledge serve, on any machines that reach the database: each task and "
            "each sweep slot runs on exactly one of them. SIGTERM or Ctrl+C lets the task running finish; "
            "a second Ctrl+C stops at once."
        ),
    )
    parser.add_argument(
        "--worker-id",
        type=_worker_id,
        default=_default_worker_id(),
        metavar="ID",
        help=_("a name unique among the workers, recorded with each task (default: host name-process id)"),
    )
    parser.add_argument(
        "--queue-name",
        type=_queue_names,
        default=["default"],
        metavar="NAMES",
        help=_("the queues to take tasks from, separated by commas; * for all (default: default)"),
    )
    parser.add_argument(
        "--interval",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help=_("seconds to wait before looking again when the queue is empty (default 1)"),
    )
    parser.add_argument("--max-tasks", type=_positive, metavar="N", help=_("stop after N tasks"))
    parser.add_argument(
        "--batch", action="store_true", help=_("run the tasks waiting now and the sweeps due now, then exit")
    )
    parser.add_argument("--no-sweeps", action="store_true", help=_("run tasks only, no periodic sweeps"))
    parser.add_argument(
        "--sweep-every",
        type=_seconds,
        metavar="SECONDS",
        help=_("run every sweep at this interval instead of its own (for tests and demonstrations)"),
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help=_("log only warnings and errors (default: a line per task and sweep)"),
    )
    opts = parser.parse_args(argv)

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CliError(_("the database has unapplied migrations: run pledge migrate first"))
    queue = _uses_task_queue()
    if not queue and opts.no_sweeps:
        raise CliError(
            _(
                "nothing to do: PLEDGE_TASKS_BACKEND runs tasks where they are enqueued, without a queue, "
                "and --no-sweeps turns the sweeps off"
            )
        )
    sweeps = {} if opts.no_sweeps else registered()
    every = timedelta(seconds=opts.sweep_every) if opts.sweep_every else None
    level = logging.WARNING if opts.quiet else logging.INFO
    for name in ("django_tasks", "django_tasks_db", "pledge.core.periodic", logger.name):
        logging.getLogger(name).setLevel(min(level, logging.getLogger().getEffectiveLevel()))

    def announce() -> None:
        """The banner: printed once the worker is set to stop cleanly on SIGTERM or Ctrl+C."""
        if queue:
            print(
                _("Worker %(id)s: tasks from queue %(queues)s, database %(db)s")
                % {"id": opts.worker_id, "queues": ",".join(opts.queue_name), "db": _database_label()}
            )
        else:
            print(
                _("Worker %(id)s: no task queue (PLEDGE_TASKS_BACKEND runs tasks where they are enqueued)")
                % {"id": opts.worker_id}
            )
        if sweeps:
            listed = ", ".join(
                _("%(name)s every %(every)s") % {"name": name, "every": _duration(every or sweep.every)}
                for name, sweep in sorted(sweeps.items())
            )
            print(_("Sweeps: %(sweeps)s") % {"sweeps": listed}, flush=True)
        else:
            print(_("Sweeps: none"), flush=True)

    if opts.batch:
        announce()
        if sweeps:
            run_due_sweeps(worker_id=opts.worker_id, every=every)
        if queue:
            _task_worker(
                worker_id=opts.worker_id,
                queue_names=opts.queue_name,
                interval=opts.interval,
                max_tasks=opts.max_tasks,
                batch=True,
            ).run()
        return 0

    scheduler = SweepScheduler(worker_id=opts.worker_id, every=every) if sweeps else None
    if queue:
        worker = _task_worker(
            worker_id=opts.worker_id,
            queue_names=opts.queue_name,
            interval=opts.interval,
            max_tasks=opts.max_tasks,
            batch=False,
        )
        worker.configure_signals()
        announce()
        code = 0
        if scheduler is not None:
            scheduler.start()
        try:
            _run_through_locks(worker, opts.interval)
        except SystemExit as exc:  # the library's signal handler ends an idle loop with sys.exit()
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            if scheduler is not None:
                scheduler.stop()  # lets a running sweep finish; a second Ctrl+C ends the wait
        print(_("Worker %(id)s stopped.") % {"id": opts.worker_id}, flush=True)
        return code

    assert scheduler is not None  # sweeps only
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        logger.warning("Received %s - stopping after the sweep running now", signal.strsignal(signum))
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)  # a second signal ends the process at once
        stopping.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    announce()
    scheduler.start()
    while not stopping.wait(1):
        pass
    scheduler.stop()
    print(_("Worker %(id)s stopped.") % {"id": opts.worker_id}, flush=True)
    return 0


class _BackgroundWorker:
    """`pledge worker`'s task loop and sweep scheduler in daemon threads of a `pledge demo` server
    process, so the demo needs no second command.

    They start in each gunicorn worker process after it is forked (post_worker_init), not in the
    master: a fork copies none of the master's threads, and a fork while a thread holds a database
    connection hands the child a copy of it. The two server processes then share the queue and the
    sweeps exactly as two `pledge worker` processes do."""

    def __init__(self, *, worker_id: str) -> None:
        from pledge.core.periodic import SweepScheduler

        self.worker_id = worker_id
        self.stopping = threading.Event()
        self.task_worker = (
            _task_worker(
                worker_id=worker_id, queue_names=["default"], interval=1.0, max_tasks=None, batch=False
            )
            if _uses_task_queue()
            else None
        )
        self.scheduler = SweepScheduler(worker_id=worker_id)
        self.thread = threading.Thread(target=self._run_tasks, name=f"tasks-{worker_id}", daemon=True)

    def start(self) -> None:
        self.scheduler.start()
        if self.task_worker is not None:
            self.thread.start()

    def _run_tasks(self) -> None:
        from django.db import connections

        task_worker = self.task_worker
        assert task_worker is not None
        while not self.stopping.is_set():
            try:
                task_worker.run()
                return
            except Exception as exc:  # the database went away, say: try again in a while
                logger.warning("Background worker %s: %s", self.worker_id, _one_line(exc))
                connections.close_all()
                self.stopping.wait(10)

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        if self.task_worker is not None:
            self.task_worker.running = False  # ends the loop after the task running now
        self.scheduler.stop(timeout)
        if self.thread.is_alive():
            self.thread.join(timeout)


_background_workers: list[_BackgroundWorker] = []


def _start_background_worker(server_worker: Any) -> None:
    """gunicorn's post_worker_init hook, in each server process."""
    background = _BackgroundWorker(worker_id=f"{_default_worker_id()}-demo")
    _background_workers.append(background)
    background.start()


def _stop_background_worker(arbiter: Any, server_worker: Any) -> None:
    """gunicorn's worker_exit hook, in the server process that is stopping."""
    for background in _background_workers:
        background.stop(timeout=10)


# --- pledge calendars, pledge holidays, pledge sla --------------------------------------------------

_STANDARDS_COMMANDS = {"calendars", "holidays", "sla", "standards"}


def _standards_command(command: str, argv: list[str]) -> int:
    from django.db import OperationalError, ProgrammingError

    try:
        if command == "calendars":
            return _calendars(argv)
        if command == "holidays":
            return _holidays(argv)
        if command == "standards":
            return _standards(argv)
        return _sla(argv)
    except (OperationalError, ProgrammingError) as exc:
        text = _one_line(exc)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            raise CliError(
                _("the database is not set up (%(error)s): run pledge migrate first") % {"error": text}
            ) from None
        if isinstance(exc, OperationalError):
            raise
        raise CliError(_("cannot use the database: %(error)s") % {"error": text}) from None


def _read_document(path: str) -> object:
    """A YAML or JSON file, or standard input for `-`; errors name the file and the line."""
    from pledge.core.errors import ValidationFailed
    from pledge.standards import calendar_files

    try:
        if path == "-":
            text = sys.stdin.buffer.read().decode("utf-8-sig")
            return calendar_files.loads(text, fmt=calendar_files.guess_format("", text))
        return calendar_files.read(path)
    except OSError as exc:
        raise CliError(
            _("cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror or exc}
        ) from None
    except UnicodeDecodeError:
        raise CliError(_("%(file)s: not UTF-8 text") % {"file": path}) from None
    except ValidationFailed as exc:
        raise CliError(f"{path}: {exc.message}") from None


def _calendars(argv: list[str]) -> int:
    from pledge.core.errors import ValidationFailed
    from pledge.standards import calendar_files, selectors, services

    parser = _Parser(prog="pledge calendars", description=_("Import, export and list business calendars."))
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    importing = actions.add_parser(
        "import",
        help=_("create or replace a calendar from a YAML or JSON file"),
        description=_(
            "Create a calendar from a YAML or JSON file (- reads standard input), or replace the calendar "
            "with its code (a new, recorded version). A bad file changes nothing."
        ),
    )
    importing.add_argument("file", help=_("the calendar file (see docs/calendars.md)"))
    importing.add_argument("--reason", default="", help=_("why, recorded with the new version"))
    exporting = actions.add_parser(
        "export",
        help=_("write a calendar to standard output"),
        description=_("Write a calendar in the file format to standard output."),
    )
    exporting.add_argument("code", help=_("the calendar's code, e.g. cn-office"))
    exporting.add_argument("--format", choices=("yaml", "json"), default="yaml", help=_("default yaml"))
    actions.add_parser("list", help=_("list the calendars"), description=_("List the business calendars."))
    opts = parser.parse_args(argv)

    if opts.action == "import":
        data = _read_document(opts.file)
        if not isinstance(data, dict):
            raise CliError(_("%(file)s: expected a calendar (code: …, name: …)") % {"file": opts.file})
        reason = opts.reason or _("Imported from %(file)s") % {"file": os.path.basename(opts.file)}
        try:
            result = services.calendar_import(data=data, actor=None, reason=reason)
        except ValidationFailed as exc:
            raise CliError(f"{opts.file}: {exc.message}") from None
        calendar = result.calendar
        if result.created:
            message = _("%(code)s: created (version %(version)d)")
        elif result.changed:
            message = _("%(code)s: replaced (version %(version)d)")
        else:
            message = _("%(code)s: unchanged (version %(version)d)")
        print(message % {"code": calendar.code, "version": calendar.version})
        return 0
    if opts.action == "export":
        calendar = selectors.calendar_get_by_code(opts.code)
        header = _("Pledge business calendar %(code)s, version %(version)d") % {
            "code": calendar.code,
            "version": calendar.version,
        }
        document = selectors.calendar_document(calendar)
        sys.stdout.write(calendar_files.dumps(document, fmt=opts.format, header=header))
        return 0
    rows = [(_("code"), _("version"), _("time zone"), _("holiday sets"), _("belongs to"), _("name"))]
    for calendar in selectors.calendar_list():
        owner = calendar.team.name if calendar.team else calendar.contract.number if calendar.contract else ""
        rows.append(
            (
                calendar.code,
                str(calendar.version),
                calendar.timezone,
                ", ".join(calendar.holiday_sets) or "-",
                owner or calendar.site or "-",
                calendar.name,
            )
        )
    if len(rows) == 1:
        print(_("No calendars yet: pledge calendars import FILE adds one."))
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[5]]))
    return 0


def _iso_day(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(value)s is not a date like 2026-12-01") % {"value": text}
        ) from None


def _standards(argv: list[str]) -> int:
    from django.conf import settings
    from django.utils import translation

    from pledge.standards import handbook

    parser = _Parser(prog="pledge standards", description=_("The service standards handbook."))
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    exporting = actions.add_parser(
        "export",
        help=_("write the standards handbook in effect on a date"),
        description=_(
            "Write the whole standard in effect on a date — service catalogue, SOPs with their steps, "
            "checkpoints and time standards, SLA policies and business calendars, each with its version — "
            "as a printable HTML page or as Markdown, to standard output or a file."
        ),
    )
    exporting.add_argument("--date", type=_iso_day, default=None, help=_("YYYY-MM-DD; default today"))
    exporting.add_argument("--format", choices=("html", "markdown"), default="html", help=_("default html"))
    exporting.add_argument(
        "--language",
        choices=[code for code, _name in settings.LANGUAGES],
        default=settings.LANGUAGE_CODE,
        help=_("default %(language)s") % {"language": settings.LANGUAGE_CODE},
    )
    exporting.add_argument("--output", "-o", default="-", help=_("a file to write; default standard output"))
    opts = parser.parse_args(argv)
    with translation.override(opts.language):
        book = handbook.build_handbook(opts.date)
        text = handbook.render_html(book) if opts.format == "html" else handbook.render_markdown(book)
    if opts.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        with open(opts.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise CliError(
            _("cannot write %(file)s: %(error)s") % {"file": opts.output, "error": exc.strerror or exc}
        ) from None
    print(
        _("%(file)s: the standard in effect on %(day)s (%(sops)d SOPs, %(types)d service types)")
        % {
            "file": opts.output,
            "day": book.day.isoformat(),
            "sops": len(book.sops),
            "types": len(book.service_types),
        }
    )
    return 0


def _year_ranges(years: frozenset[int]) -> str:
    """{2004, …, 2026, 2028} → "2004–2026, 2028"."""
    parts: list[str] = []
    for year in sorted(years):
        if parts and year == int(parts[-1].rsplit("–", 1)[-1]) + 1:
            parts[-1] = f"{parts[-1].split('–')[0]}–{year}"
        else:
            parts.append(str(year))
    return ", ".join(parts) or "-"


def _holidays(argv: list[str]) -> int:
    from django.utils import timezone

    from pledge.core.errors import ValidationFailed
    from pledge.standards import selectors, services
    from pledge.standards.choices import HolidaySetCode
    from pledge.standards.models import HolidaySetYear

    parser = _Parser(
        prog="pledge holidays", description=_("Holiday data: import a new year's official schedule.")
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    importing = actions.add_parser(
        "import",
        help=_("import one year's official holiday schedule"),
        description=_(
            "Import one year's official schedule (JSON or YAML: the simple shape or the State Council "
            "notice shape, see docs/calendars.md). Importing a year again replaces it."
        ),
    )
    importing.add_argument("file", help=_("the schedule file (- reads standard input)"))
    importing.add_argument(
        "--set",
        dest="set_code",
        choices=HolidaySetCode.values,
        default=HolidaySetCode.CN_STATUTORY.value,
        help=_("the holiday set (default cn-statutory)"),
    )
    actions.add_parser(
        "list", help=_("the years each set has data for"), description=_("The years each set has data for.")
    )
    opts = parser.parse_args(argv)

    if opts.action == "import":
        document = _read_document(opts.file)
        try:
            row, created = services.holiday_year_import(
                set_code=opts.set_code, document=document, actor=None, source=os.path.basename(opts.file)
            )
        except ValidationFailed as exc:
            raise CliError(f"{opts.file}: {exc.message}") from None
        message = (
            _("%(set)s %(year)d: %(holidays)d holidays and %(makeups)d make-up workdays imported")
            if created
            else _("%(set)s %(year)d: %(holidays)d holidays and %(makeups)d make-up workdays (replaced)")
        )
        print(
            message
            % {
                "set": row.set_code,
                "year": row.year,
                "holidays": len(row.holidays),
                "makeups": len(row.makeup_workdays),
            }
        )
        for missing in selectors.calendars_missing_holiday_data(timezone.localdate()):
            print(_("warning: %(message)s") % {"message": missing.message}, file=sys.stderr)
        return 0
    coverage = selectors.holiday_coverage()
    for set_code, years in coverage.items():
        imported = sorted(HolidaySetYear.objects.filter(set_code=set_code).values_list("year", flat=True))
        print(
            _("%(set)s: data for %(years)s (imported: %(imported)s)")
            % {
                "set": set_code,
                "years": _year_ranges(years),
                "imported": ", ".join(str(year) for year in imported) or "-",
            }
        )
    return 0


def _parse_start(text: object, zone: Any) -> Any:
    """ISO 8601 text → aware datetime; without an offset it is the calendar's local time."""
    from datetime import datetime

    if not isinstance(text, str):
        raise ValueError(_("start: expected ISO 8601 text such as 2026-02-13T17:00:00+08:00"))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            _("start: %(value)r is not an ISO 8601 date and time (e.g. 2026-02-13T17:00:00+08:00)")
            % {"value": text}
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _parse_minutes(value: object) -> float:
    import math

    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
        raise ValueError(_("minutes: expected a number of working minutes, 0 or more"))
    return float(value)


def _minutes_option(text: str) -> float:
    try:
        return _parse_minutes(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a number of minutes (0 or more): %(value)r") % {"value": text}
        ) from None


def _sla(argv: list[str]) -> int:
    from pledge.standards import selectors

    parser = _Parser(prog="pledge sla", description=_("Service level questions."))
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    due = actions.add_parser(
        "due",
        help=_("when is a target due"),
        description=_(
            "Print when MINUTES of working time on the calendar have elapsed since START, in ISO 8601 "
            "with the calendar's UTC offset. Without --start, read JSON lines "
            '{"start": …, "minutes": …} from standard input and write one JSON line {"due": …} each.'
        ),
    )
    due.add_argument("--calendar", required=True, help=_("the calendar's code, e.g. cn-office"))
    due.add_argument(
        "--start", help=_("ISO 8601 date and time; without an offset, the calendar's local time")
    )
    due.add_argument(
        "--minutes", type=_minutes_option, help=_("working minutes (a default for lines that give none)")
    )
    opts = parser.parse_args(argv)

    calendar = selectors.calendar_get_by_code(opts.calendar)
    business_time = selectors.business_time_for(calendar)
    if opts.start is not None:
        if opts.minutes is None:
            raise CliError(_("--minutes is required with --start (see pledge sla due --help)"))
        try:
            start = _parse_start(opts.start, business_time.zone)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        answer = selectors.deadline(business_time, start, opts.minutes)
        print(answer.due.isoformat())
        if answer.provisional:
            print(_provisional_note(calendar, answer.uncovered_years), file=sys.stderr)
        return 0
    return _sla_due_stream(business_time, opts.minutes)


def _provisional_note(calendar: Any, years: Sequence[int]) -> str:
    return _(
        "note: provisional: %(calendar)s has no holiday data for %(years)s, so every weekday there counted "
        "as worked; import the official schedule (pledge holidays import FILE)"
    ) % {"calendar": calendar.code, "years": ", ".join(str(year) for year in years)}


def _sla_due_stream(business_time: Any, default_minutes: float | None) -> int:
    """One JSON line out per JSON line in; a bad line answers {"error": …} and the exit code is 1."""
    import json

    from pledge.core.errors import ValidationFailed
    from pledge.standards import selectors

    zone = business_time.zone
    failed = False
    write, flush = sys.stdout.write, sys.stdout.flush
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            line = raw.decode("utf-8").strip()
            if not line:
                continue
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError(_('expected an object {"start": …, "minutes": …}'))
            minutes = item.get("minutes", default_minutes)
            if minutes is None:
                raise ValueError(_("minutes: missing"))
            answer = selectors.deadline(
                business_time, _parse_start(item.get("start"), zone), _parse_minutes(minutes)
            )
            result: dict[str, object] = {"due": answer.due.isoformat()}
            if answer.provisional:
                result["provisional"] = True
                result["uncovered_years"] = list(answer.uncovered_years)
        except UnicodeDecodeError:
            failed = True
            result = {"error": _("line %(number)d: not UTF-8 text") % {"number": number}}
        except json.JSONDecodeError as exc:
            failed = True
            result = {
                "error": _("line %(number)d: not JSON (%(error)s)") % {"number": number, "error": exc.msg}
            }
        except (ValueError, ValidationFailed) as exc:
            failed = True
            result = {"error": _("line %(number)d: %(error)s") % {"number": number, "error": _one_line(exc)}}
        write(json.dumps(result, ensure_ascii=False) + "\n")
        flush()  # answer each line at once, so a program can ask one question at a time
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
