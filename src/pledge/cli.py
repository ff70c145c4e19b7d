"""The `pledge` command: demo, serve and every Django management command (migrate, check, …)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pledge.config.settings")
    from pledge.config.env import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        print(f"pledge: configuration error: {exc}", file=sys.stderr)
        return 2
    from django.core.management import execute_from_command_line

    if not args or args[0] in {"-h", "--help", "help"}:
        print(
            "usage: pledge COMMAND [options]\n\n"
            "  demo       create or update the demo database and serve it on 127.0.0.1:8000\n"
            "  serve      run the production server (several worker processes)\n"
            "  migrate    apply database migrations\n"
            "  check      check the installation\n"
            "  …          any Django management command (pledge help-all lists them)"
        )
        return 0
    if args[0] == "help-all":
        args = ["help"]
    execute_from_command_line(["pledge", *args])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
