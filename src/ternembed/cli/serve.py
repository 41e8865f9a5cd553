"""`ternembed serve MODEL_DIR [--index NAME=DIR ...]`: embeddings, search and recommendations over HTTP."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path

from ternembed.cli.common_args import add_activation_argument, apply_activation_argument
from ternembed.errors import InvalidArgumentError

NAME = "serve"
HELP = (
    "Serve a model over HTTP: OpenAI- and TEI-compatible embeddings, search and recommendation over indexes."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="ternary folder, sentence-transformers folder or model name")
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="serve the index folder DIR as NAME (repeatable); it must have been built with this model",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument(
        "--max-batch-tokens", type=int, default=16384, help="padded tokens per merged forward pass"
    )
    parser.add_argument("--max-client-batch-size", type=int, default=32, help="inputs per request")
    parser.add_argument(
        "--max-concurrent-requests", type=int, default=512, help="requests in flight before answering 429"
    )
    parser.add_argument("--max-body-bytes", type=int, default=8 * 1024 * 1024, help="largest request body")
    parser.add_argument(
        "--api-key-env",
        metavar="VAR",
        help="require 'Authorization: Bearer <key>' with the key read from environment variable VAR",
    )
    parser.add_argument("--threads", type=int, help="CPU threads of the model (default: torch's choice)")
    parser.add_argument("--model-name", help="model name reported to clients (default: the folder's name)")
    parser.add_argument(
        "--batching",
        choices=("on", "off"),
        default="on",
        help="merge concurrent requests into one forward pass (off: one request per pass, for comparison)",
    )
    parser.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    add_activation_argument(parser)


def parse_index_option(value: str) -> tuple[str, Path]:
    """``NAME=DIR`` as (name, folder), or ValueError saying what is wrong."""
    name, separator, folder = value.partition("=")
    if not separator or not name or not folder:
        raise InvalidArgumentError(f"--index takes NAME=DIR, got {value!r}")
    if not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgumentError(f"index name {name!r} may hold only letters, digits, '-' and '_'")
    return name, Path(folder)


def run(args: argparse.Namespace) -> int:
    apply_activation_argument(args)
    from ternembed.cli.main import CliError

    indexes: dict[str, Path] = {}
    for option in args.index:
        name, folder = parse_index_option(option)
        if name in indexes:
            raise CliError(f"index name {name!r} is given twice")
        indexes[name] = folder
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise CliError(f"--api-key-env {args.api_key_env}: that environment variable is not set or empty")
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be 0..65535, got {args.port}")

    import torch
    import uvicorn

    from ternembed.index import load_model
    from ternembed.serve import ServerSettings, create_app

    if args.threads is not None:
        if args.threads < 1:
            raise CliError(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    model = load_model(args.model)
    settings = ServerSettings(
        model_name=args.model_name or Path(args.model).name,
        max_batch_tokens=args.max_batch_tokens,
        max_client_batch_size=args.max_client_batch_size,
        max_concurrent_requests=args.max_concurrent_requests,
        max_body_bytes=args.max_body_bytes,
        api_key=api_key,
        batching=args.batching == "on",
        indexes=indexes,
    )
    app = create_app(model, settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=30,
        backlog=2048,
    )
    print(f"serving {settings.model_name} on http://{args.host}:{args.port}", flush=True)
    server = uvicorn.Server(config)
    if threading.current_thread() is threading.main_thread():
        # uvicorn drains in-flight requests on SIGTERM, then restores this handler and raises SIGTERM
        # again; exiting 0 there (rather than dying of the signal) tells supervisors the stop was clean
        signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        server.run()
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise
    return 0


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)
