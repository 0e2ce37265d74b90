"""Shared command-line machinery: a table of subcommands, one module each.

Each subcommand module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``.  :func:`run_commands` builds the parser from the table, runs the command,
and turns every :class:`~derive.errors.BadInput` (and unreadable files) into a one-line message
on stderr with exit status 2 — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ..errors import BadInput, CheckFailed

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def run_commands(prog: str, description: str, commands: dict[str, str],
                 argv: list[str] | None = None) -> int:
    """Parse ``argv`` against the ``commands`` table (name → module path) and run one."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = {}
    for name, path in commands.items():
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:
                raise
            continue                     # a command whose module is not installed
        modules[name] = module
        command_parser = sub.add_parser(name, help=module.HELP, description=module.__doc__,
                                        formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(command_parser)
    args = parser.parse_args(argv)
    try:
        return modules[args.command].run(args)
    except BadInput as exc:
        print(f"{prog} {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CheckFailed as exc:
        print(f"{prog} {args.command}: check failed (nothing written): {exc}", file=sys.stderr)
        return EXIT_FAILED
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"{prog} {args.command}: error: {exc.strerror}: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def write_output(text: str, path: str | None) -> None:
    """Print ``text``, or write it to ``path`` atomically (an existing file is replaced only
    once the new content is complete)."""
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    import os
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise BadInput(f"cannot write {path}: directory {directory} does not exist", "-o")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".symbackprop-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text if text.endswith("\n") else text + "\n")
    os.replace(tmp, path)
