"""A local web page: derive a network, check a gradient, differentiate an expression.

Starts a server on this computer (loopback only, unless --host says otherwise) and prints its
address; open it in a browser.  Three pages, linked from the start page:

  Derive    a network (a spec, or sizes, activation, loss, convention) derived step by step
            in a course's notation, with its report (.tex, .pdf where TeX Live is installed,
            .md, .html) and its NumPy module with its test to download
  Check     a claimed gradient typed in LaTeX, previewed as it is read, decided: correct,
            incorrect (the mistake named, a counterexample) or invalid
  Jacobian  a matrix expression differentiated in both layouts, with its NumPy expression

The same answers as JSON: POST /api/derive, /api/check, /api/jacobian (the fields and
documents of derive mlp, verify gradient and derive jacobian with --json; docs/serve.md).
Each computation runs in a process of its own, stopped after --time-limit seconds (HTTP 408);
nothing typed is sent anywhere.  Ctrl-C stops the server.

examples:
  python -m reports serve
  python -m reports serve --port 8080 --time-limit 120
"""

from __future__ import annotations

import sys

from derive.cli import EXIT_OK
from derive.errors import BadInput

from ..serve.app import DEFAULT_PROCESSES, DEFAULT_TIME_LIMIT, create_app

HELP = "a local web page: derive, check and differentiate in the browser"


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this computer only)")
    parser.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                        help="seconds one computation may take before it is stopped "
                             "(default 60)")
    parser.add_argument("--processes", type=int, default=None, metavar="N",
                        help="computations run at once (default: the number of cores, at "
                             "least 2)")


def run(args) -> int:
    # optional at import: uvicorn (the server) loads only when the server starts
    import uvicorn
    if not 0 <= args.port <= 65535:
        raise BadInput(f"port {args.port} is not between 0 and 65535", "--port")
    limit = DEFAULT_TIME_LIMIT if args.time_limit is None else args.time_limit
    if limit <= 0:
        raise BadInput(f"time limit {limit:g} s must be positive", "--time-limit")
    processes = DEFAULT_PROCESSES if args.processes is None else args.processes
    if processes < 1:
        raise BadInput(f"{processes} processes: at least 1 is needed", "--processes")
    app = create_app(time_limit=limit, processes=processes)
    host = f"[{args.host}]" if ":" in args.host else args.host

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1] if self.servers \
                    else args.port
                print(f"symbackprop: serving on http://{host}:{port}/ (Ctrl-C stops it)",
                      flush=True)

    server = Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning"))
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except SystemExit:                 # uvicorn: the address could not be bound
        pass
    if not server.started:
        print(f"python -m reports serve: error: could not listen on {host}:{args.port} "
              "(is the port in use?)", file=sys.stderr)
        return 2
    print("symbackprop: stopped", flush=True)
    return EXIT_OK
