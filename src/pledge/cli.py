"""The `pledge` command: demo, serve and every Django management command (migrate, check, …).

Errors a user can cause (a bad option, a bad DATABASE_URL, an unreachable database, a port in use, an
unsafe production configuration) end with one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

# Only called once settings are loaded (before that, messages stay in English).
from django.utils.translation import gettext as _

USAGE_ERROR = 2


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
            "  migrate    apply database migrations\n"
            "  check      check the installation\n"
            "  …          any Django management command (pledge help-all lists them)\n\n"
            "pledge demo --help and pledge serve --help list their options."
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


def _run_gunicorn(*, bind: str, workers: int, threads: int, access_log: bool, log_level: str) -> None:
    """Run gunicorn in this process (it becomes the master; SIGTERM or Ctrl+C stops it gracefully)."""
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
    return f"PostgreSQL {db.get('NAME')} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"


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
    opts = parser.parse_args(argv)

    fd = None if opts.no_serve else _listen(opts.host, opts.port)
    print(_("Preparing the demo database: %(db)s") % {"db": _database_label()}, flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    print(_("Loading the demo company (the first run takes 10–30 seconds)…"), flush=True)
    try:
        summary = load_demo()
    except DemoRefused as exc:
        raise CliError(
            _("%(error)s (set PLEDGE_DATA_DIR or DATABASE_URL to another database)") % {"error": exc}
        ) from None

    url = _public_url(opts.host, opts.port)
    print()
    print(f"Pledge demo · {COMPANY}")
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
    print(_("Serving on %(url)s — press Ctrl+C to stop.") % {"url": url}, flush=True)
    _run_gunicorn(bind=f"fd://{fd}", workers=2, threads=4, access_log=False, log_level="warning")
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
    parser.add_argument("--threads", type=_positive, default=2, help=_("threads per worker (default 2)"))
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


if __name__ == "__main__":
    raise SystemExit(main())
