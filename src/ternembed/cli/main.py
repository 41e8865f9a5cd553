"""`ternembed` command line: one module per subcommand, heavy imports inside their handlers.

Each subcommand module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from ternembed.errors import TernembedError

SUBCOMMAND_MODULES = (
    "quantize",
    "info",
    "eval",
    "distill",
    "soup",
    "corpus",
    "bench",
    "index",
    "search",
    "bench_ann",
    "bench_serve",
    "embed",
    "serve",
    "push",
)


class CliError(TernembedError):
    """A user error the CLI reports as one clear line and exit code 2 (no traceback)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ternembed", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"ternembed.cli.{module_name}")
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def _version() -> str:
    from ternembed import __version__

    return f"ternembed {__version__}"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (TernembedError, OSError, ValueError) as error:
        if os.environ.get("TERNEMBED_DEBUG"):
            raise
        unexpected = not isinstance(error, (TernembedError, OSError))
        hint = f" (unexpected {type(error).__name__}: set TERNEMBED_DEBUG=1 for the traceback and report it)"
        print(f"ternembed {args.command}: error: {error}{hint if unexpected else ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
