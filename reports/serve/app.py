"""The web application: the pages, the JSON API, the generated files (Starlette).

=========================  ===================================================================
``GET /``                  the start page
``GET|POST /derive``       the Derive page (a form; posted: the derivation and its files)
``GET|POST /check``        the Check page (posted: the verdict)
``GET|POST /jacobian``     the Jacobian page (posted: both layouts)
``POST /api/derive``       ``python -m derive mlp SPEC --format json`` (``graph`` for a graph)
``POST /api/check``        ``python -m verify gradient … --json``
``POST /api/jacobian``     ``python -m derive jacobian … --format json``
``POST /api/preview``      how a claim is read: ``{"latex", "mathml", "shape", "error"}``
``GET /files/ID/NAME``     a file a Derive request generated
=========================  ===================================================================

The API takes a JSON object of the command's fields (docs/serve.md) and answers its JSON
document; bad input answers 400 ``{"error": the message the command prints}`` (an invalid
claim: the verdict document with that ``error``), a body or field too large 413, a computation
past the time limit 408; the server stays up.

>>> from starlette.testclient import TestClient
>>> with TestClient(create_app(time_limit=60)) as client:
...     answer = client.post("/api/jacobian", json={"expr": "x^T x", "wrt": "x"})
>>> answer.status_code, answer.json()["latex"]
(200, '2 x^{T}')
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from . import jobs, pages
from .fields import CHECK, DERIVE, JACOBIAN, PREVIEW, FieldError, parse_body, read_body, \
    read_fields
from .files import FileStore
from .workers import TimeLimit, WorkerFailed, Workers

__all__ = ["DEFAULT_PROCESSES", "DEFAULT_TIME_LIMIT", "create_app"]

#: Seconds one request's computation may take.
DEFAULT_TIME_LIMIT = 60.0
#: Computations that run at once (the others wait their turn).
DEFAULT_PROCESSES = max(2, os.cpu_count() or 2)
_MEDIA = {".pdf": "application/pdf", ".tex": "text/x-tex; charset=utf-8",
          ".md": "text/markdown; charset=utf-8", ".html": "text/html; charset=utf-8",
          ".py": "text/x-python; charset=utf-8", ".toml": "application/toml; charset=utf-8"}


def _status(answer: dict) -> int:
    """The HTTP status of a command's answer: 200, 400 for bad input (exit 2), 500 for a
    failed self-check of the engine (exit 1 of ``derive``)."""
    return {0: 200, 2: 400}.get(answer["code"], 500)


class _App:
    """The routes' shared state: the worker processes and the file store."""

    def __init__(self, time_limit: float, processes: int):
        self.workers = Workers(time_limit=time_limit, processes=processes)
        self.files = FileStore()

    async def _fields(self, request, form: dict) -> dict:
        body = await read_body(request)
        return read_fields(parse_body(body, request.headers.get("content-type", "")), form)

    async def _run(self, job, fields):
        return await run_in_threadpool(self.workers.run, job, fields)

    async def api(self, request, form: dict, job, ok_codes=(0,)) -> Response:
        try:
            fields = await self._fields(request, form)
            answer = await self._run(job, fields)
        except FieldError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except TimeLimit as exc:
            return JSONResponse({"error": str(exc)}, status_code=408)
        except WorkerFailed as exc:
            return JSONResponse({"error": f"internal error: {exc}"}, status_code=500)
        if answer["code"] in ok_codes:
            return JSONResponse(answer["json"])
        document = dict(answer["json"] or {})
        document["error"] = answer["error"]
        return JSONResponse(document, status_code=_status(answer))

    async def api_derive(self, request) -> Response:
        return await self.api(request, DERIVE, jobs.derive)

    async def api_check(self, request) -> Response:
        # Exit 1 is an incorrect claim: an answer, not an error.
        return await self.api(request, CHECK, jobs.check, ok_codes=(0, 1))

    async def api_jacobian(self, request) -> Response:
        return await self.api(request, JACOBIAN, jobs.jacobian)

    async def api_preview(self, request) -> Response:
        try:
            fields = await self._fields(request, PREVIEW)
            return JSONResponse(await self._run(jobs.preview, fields))
        except FieldError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except (TimeLimit, WorkerFailed) as exc:
            return JSONResponse({"error": str(exc)}, status_code=408 if isinstance(
                exc, TimeLimit) else 500)

    async def page(self, request, form: dict, render, job, ok_codes=(0,)) -> Response:
        """A page: its empty form (GET), or the form as posted with the job's answer."""
        if request.method == "GET":
            return HTMLResponse(render({}, None))
        try:
            fields = await self._fields(request, form)
            answer = await self._run(job, fields)
        except FieldError as exc:
            return HTMLResponse(pages.error_page("Not read", str(exc)), status_code=exc.status)
        except TimeLimit as exc:
            return HTMLResponse(pages.error_page("Too long", str(exc)), status_code=408)
        except WorkerFailed as exc:
            return HTMLResponse(pages.error_page("Internal error", str(exc)), status_code=500)
        status = 200 if answer["code"] in ok_codes else _status(answer)
        return HTMLResponse(render(fields, answer), status_code=status)

    async def derive_page(self, request) -> Response:
        if request.method == "GET":
            return HTMLResponse(pages.derive_page({}, None))
        ident, folder = self.files.create()

        def render(fields, answer):
            if answer is not None and answer.get("files"):
                self.files.publish(ident, answer["files"])
            return pages.derive_page(fields, answer, ident)

        response = await self.page(request, DERIVE, render, _DeriveJob(folder))
        if response.status_code != 200:
            self.files.discard(ident)
        return response

    async def check_page(self, request) -> Response:
        return await self.page(request, CHECK, pages.check_page, jobs.check_page,
                               ok_codes=(0, 1))

    async def jacobian_page(self, request) -> Response:
        return await self.page(request, JACOBIAN, pages.jacobian_page, jobs.jacobian_both)

    async def start(self, request) -> Response:
        return HTMLResponse(pages.start_page())

    async def file(self, request) -> Response:
        name = request.path_params["name"]
        path = self.files.path(request.path_params["ident"], name)
        if path is None:
            return HTMLResponse(pages.error_page("Not found", "no such file: it was never "
                                                 "generated, or it has been cleaned up"),
                                status_code=404)
        media = _MEDIA.get(os.path.splitext(name)[1], "application/octet-stream")
        return FileResponse(path, media_type=media, filename=name)


class _DeriveJob:
    """``jobs.derive_files`` bound to the request's folder (picklable: it crosses into the
    worker process)."""

    def __init__(self, folder: str):
        self.folder = folder

    def __call__(self, fields: dict) -> dict:
        return jobs.derive_files(fields, self.folder)


def create_app(time_limit: float = DEFAULT_TIME_LIMIT,
               processes: int = DEFAULT_PROCESSES) -> Starlette:
    """The application: ``time_limit`` seconds per computation, ``processes`` at once."""
    state = _App(time_limit, processes)

    @asynccontextmanager
    async def lifespan(app):
        try:
            yield
        finally:
            state.files.close()

    routes = [
        Route("/", state.start, methods=["GET"]),
        Route("/derive", state.derive_page, methods=["GET", "POST"]),
        Route("/check", state.check_page, methods=["GET", "POST"]),
        Route("/jacobian", state.jacobian_page, methods=["GET", "POST"]),
        Route("/api/derive", state.api_derive, methods=["POST"]),
        Route("/api/check", state.api_check, methods=["POST"]),
        Route("/api/jacobian", state.api_jacobian, methods=["POST"]),
        Route("/api/preview", state.api_preview, methods=["POST"]),
        Route("/files/{ident}/{name}", state.file, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.serve = state
    return app
