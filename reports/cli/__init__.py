"""The commands of ``python -m reports``, one module each (``HELP``, ``add_arguments``,
``run``), run by :func:`derive.cli.run_commands`."""
