"""The ``python -m verify`` subcommands, one module each (``HELP``, ``add_arguments``, ``run``).

They run through the table machinery of :mod:`derive.cli` (:func:`derive.cli.run_commands`):
exit 0 verified, 1 a verification failure, 2 bad input — a one-line message, no traceback.
"""
