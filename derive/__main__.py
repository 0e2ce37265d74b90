"""``python -m derive``: derive gradients (``mlp``), Jacobians (``jacobian``), graphs (``graph``)."""

import sys

from .cli import run_commands

COMMANDS = {
    "mlp": "derive.cli.mlp",
    "jacobian": "derive.cli.jacobian",
    "graph": "derive.cli.graph",
}

if __name__ == "__main__":
    sys.exit(run_commands("python -m derive", __doc__, COMMANDS))
