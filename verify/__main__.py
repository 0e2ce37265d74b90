"""``python -m verify``: check gradient code against finite differences (``code``).

Commands not yet installed (``gradient``, ``expr``, ``derivation``: claimed gradients,
identities and whole derivations, SPEC §5) are left out of the table until their modules exist.
"""

import sys

from derive.cli import run_commands

COMMANDS = {
    "code": "verify.cli.code",
    "gradient": "verify.cli.gradient",
    "expr": "verify.cli.expr",
    "derivation": "verify.cli.derivation",
}

if __name__ == "__main__":
    sys.exit(run_commands("python -m verify", __doc__, COMMANDS))
