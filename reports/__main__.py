"""``python -m reports``: documents of derivations (``build``: PDF, LaTeX, Beamer, Markdown,
HTML; ``gallery``: the reference reports in reports/gallery/; ``serve``: the local web page).
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
