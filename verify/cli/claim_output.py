"""What the claim commands (``gradient``, ``expr``) share: printing a verdict and its exit
status (0 correct, 1 incorrect, 2 invalid — the reason on stderr as well)."""

from __future__ import annotations

import json
import sys

from derive.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, write_output

#: Exit status of each verdict.
EXIT_STATUS = {"correct": EXIT_OK, "incorrect": EXIT_FAILED, "invalid": EXIT_BAD_INPUT}


def report_verdict(verdict, as_json: bool, prog: str) -> int:
    """Print ``verdict`` (text or JSON) on stdout; an invalid one's reason also on stderr."""
    if as_json:
        write_output(json.dumps(verdict.as_dict(), indent=2, ensure_ascii=False), None)
    else:
        write_output(verdict.to_text(), None)
    if verdict.verdict == "invalid":
        print(f"{prog}: error: {verdict.diagnosis[0].detail}", file=sys.stderr)
    return EXIT_STATUS[verdict.verdict]


__all__ = ["EXIT_STATUS", "report_verdict"]
