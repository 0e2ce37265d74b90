"""The local web page of ``python -m reports serve`` (SPEC §5): Derive, Check, Jacobian.

One module a job: :mod:`reports.serve.app` the Starlette application (routes, statuses),
:mod:`reports.serve.pages` its HTML (plain forms, MathML answers, accessible names),
:mod:`reports.serve.fields` a request's fields read with size limits,
:mod:`reports.serve.specs` the spec a request describes as the TOML the commands read,
:mod:`reports.serve.jobs` the commands run on a request (what the API answers is their
``--json``), :mod:`reports.serve.workers` each job in a process of its own under a time limit,
:mod:`reports.serve.files` the generated files of each request in its own temporary folder.
The page and the API are described in docs/serve.md.
"""

from .app import create_app

__all__ = ["create_app"]
