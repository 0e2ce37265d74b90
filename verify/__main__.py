"""``python -m verify``: check gradient code against finite differences (``code``), a
hand-derived gradient of a network (``gradient``) or a claimed derivative of an expression
(``expr``), typed in LaTeX, or a whole class's gradients from a CSV file (``grade``).

A command whose module is not installed yet (``derivation``: whole derivations, SPEC §5) is
left out of the table until its module exists.
"""

import sys

from derive.cli import run_commands

COMMANDS = {
    "code": "verify.cli.code",
    "gradient": "verify.cli.gradient",
    "expr": "verify.cli.expr",
    "derivation": "verify.cli.derivation",
    "grade": "verify.cli.grade",
}

if __name__ == "__main__":
    sys.exit(run_commands("python -m verify", __doc__, COMMANDS))
