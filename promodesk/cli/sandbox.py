"""promodesk sandbox serve [--host H] [--port N] [--json]"""

from __future__ import annotations

import contextlib
import sys
from typing import Any


def register(commands: Any) -> None:
    sandbox = commands.add_parser("sandbox", help="fake Optimove, Altcraft and impact.com servers")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the three sandbox vendors on loopback",
        description="Serve fake Optimove, Altcraft and impact.com APIs (with demo data and "
        "demo credentials) until interrupted. Point an account's base URL at them.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument(
        "--json",
        action="store_true",
        help="print the base URLs and credentials as one JSON line, then serve",
    )
    serve.set_defaults(run=lambda args: run_sandbox(args.host, args.port, as_json=args.json))


def run_sandbox(host: str, port: int, *, as_json: bool) -> int:
    import asyncio

    from promodesk.services.sandbox import bind, build_sandbox, json_line, serve

    try:
        sock = bind(host, port)
    except OSError as error:
        print(f"error: cannot listen on {host}:{port} ({error.strerror})", file=sys.stderr)
        return 1

    def announce(description: dict[str, dict[str, str]]) -> None:
        if as_json:
            print(json_line(description), flush=True)
            return
        for vendor, values in description.items():
            print(f"{vendor:9} {values['base_url']}")
            for key, value in values.items():
                if key != "base_url":
                    print(f"{'':9}   {key}: {value}")
        print("serving; Ctrl+C to stop", file=sys.stderr, flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how it stops
        asyncio.run(serve(sock, build_sandbox(), announce=announce))
    return 0
