"""``python -m reports``: documents of derivations (``build``: PDF, LaTeX, Beamer, Markdown,
HTML).

Commands not yet installed (``gallery``, ``serve``: SPEC §5) are left out of the table until
their modules exist.
"""

import sys

from derive.cli import run_commands

COMMANDS = {
    "build": "reports.cli.build",
    "gallery": "reports.cli.gallery",
    "serve": "reports.cli.serve",
}

if __name__ == "__main__":
    sys.exit(run_commands("python -m reports", __doc__, COMMANDS))
