"""Console entry point of `chip2chat`: runs the app, turns every bad input into one line."""

from __future__ import annotations

import sys

import typer

import chip2chat.cli.commands  # noqa: F401  the commands declare themselves on the app
import chip2chat.cli.configure  # noqa: F401
import chip2chat.cli.serve  # noqa: F401
from chip2chat.cli.app import app, error_line
from chip2chat.errors import Chip2ChatError


def main(argv: list[str] | None = None) -> None:
    """Console entry point: bad input prints one line and exits 2 (1 when a plan does not fit).

    Usage errors (an unknown option, a non-integer) are one line too, naming the option and what
    it takes; Ctrl-C stops with exit code 130 (the shell's convention for SIGINT).
    """
    from typer._click.exceptions import NoArgsIsHelpError, UsageError

    try:
        code = app(argv, prog_name="chip2chat", standalone_mode=False)
    except NoArgsIsHelpError:
        sys.exit(2)  # the help was printed
    except UsageError as exc:
        error_line(exc.format_message().replace("\n", " ") + _usage_hint(exc))
        sys.exit(2)
    except Chip2ChatError as exc:
        error_line(str(exc))
        sys.exit(exc.exit_code)
    except OSError as exc:  # an output or input path the user gave that cannot be used
        error_line(f"{exc.filename or ''}: {exc.strerror or exc}")
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        error_line("interrupted; finished work is kept where the command stores it")
        sys.exit(130)
    if code == 130:  # typer turns a KeyboardInterrupt inside a command into Exit(130)
        error_line("interrupted; finished work is kept where the command stores it")
    sys.exit(code if isinstance(code, int) else 0)


def _usage_hint(exc) -> str:
    words = ["chip2chat", *(exc.ctx.command_path.split()[1:] if exc.ctx is not None else [])]
    return f" (see `{' '.join(words)} --help`)"
