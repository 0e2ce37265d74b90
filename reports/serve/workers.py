"""Each request's work in a process of its own, stopped when it runs past the time limit.

A derivation of an untrusted spec may take long (a large network, a hard simplification):
the server must answer, and stay up.  :class:`Workers` runs a job (a function of
:mod:`reports.serve.jobs`) in a fresh process forked from a *fork server* that imported the
engine once (a process starts in milliseconds, with nothing of the server's threads; as with any
use of :mod:`multiprocessing`, a script that starts the server does so under ``if __name__
== "__main__":``), waits at
most ``time_limit`` seconds for its answer, and terminates it otherwise
(:class:`TimeLimit`).  At most ``processes`` jobs run at once; the others wait their turn (the
wait is not counted in their time).

>>> from reports.serve import jobs
>>> workers = Workers(time_limit=60, processes=1)
>>> workers.run(jobs.jacobian, {"expr": "x^T x", "wrt": "x", "layout": "denominator"})["json"]["latex"]
'2 x'
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import traceback

__all__ = ["PRELOAD", "TimeLimit", "WorkerFailed", "Workers"]

#: What the fork server imports once, so that a job's process starts with it loaded.
PRELOAD = ["reports.serve.jobs", "latex2mathml.converter", "sympy"]
#: Seconds a terminated process is given to exit before it is killed.
_GRACE = 2.0


class TimeLimit(Exception):
    """A job ran past its time limit and was stopped (``seconds``: the limit)."""

    def __init__(self, seconds: float):
        super().__init__(f"the computation took longer than the time limit of {seconds:g} s "
                         "and was stopped; try a smaller network or a simpler expression")
        self.seconds = seconds


class WorkerFailed(Exception):
    """A job's process failed without an answer (a crash, or an unexpected exception)."""


def _child(connection, job, fields) -> None:
    """The job's process: run ``job(fields)`` and send ``("ok", answer)`` or
    ``("error", text)``."""
    try:
        os.setpgrp()          # its own process group: a LaTeX run it starts is stopped with it
    except OSError:
        pass
    try:
        answer = ("ok", job(fields))
    except BaseException:  # noqa: BLE001 -- the server reports it; the process ends anyway
        answer = ("error", traceback.format_exc(limit=-3))
    try:
        connection.send(answer)
    finally:
        connection.close()


def _stop(process) -> None:
    """Terminate ``process`` and what it started (its process group), or ``process`` alone if
    it has no group of its own yet."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError, OSError):
        process.terminate()


class Workers:
    """Runs jobs in their own processes, ``processes`` at a time, each for at most
    ``time_limit`` seconds."""

    def __init__(self, time_limit: float = 30.0, processes: int = 2):
        self.time_limit = time_limit
        self._context = multiprocessing.get_context("forkserver")
        # A main script is imported once, by the fork server, not by every job's process
        # (multiprocessing re-imports it in each new process otherwise).
        main = getattr(sys.modules.get("__main__"), "__file__", None)
        script = ["__main__"] if main and os.path.isfile(main) else []
        self._context.set_forkserver_preload(script + PRELOAD)
        self._slots = threading.BoundedSemaphore(max(1, processes))

    def run(self, job, fields, time_limit: float | None = None):
        """``job(fields)`` in a new process (``job`` picklable: a module's function, or an
        instance of a module's class); its answer.

        Blocks the calling thread (the server calls it from a thread of its pool).

        Raises
        ------
        TimeLimit
            No answer within the time limit: the process was terminated.
        WorkerFailed
            The job raised, or its process died.
        """
        limit = self.time_limit if time_limit is None else time_limit
        with self._slots:
            receive, send = self._context.Pipe(duplex=False)
            process = self._context.Process(target=_child, args=(send, job, fields),
                                            daemon=True)
            process.start()
            send.close()
            try:
                if not receive.poll(limit):
                    _stop(process)
                    raise TimeLimit(limit)
                status, answer = receive.recv()
            except EOFError:
                raise WorkerFailed(f"the worker process ended without an answer (exit "
                                   f"status {process.exitcode})") from None
            finally:
                receive.close()
                process.join(_GRACE)
                if process.is_alive():
                    process.kill()
                    process.join()
            if status != "ok":
                raise WorkerFailed(answer)
            return answer
