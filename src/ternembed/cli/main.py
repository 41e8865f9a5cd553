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


DESCRIPTION = (
    "Ternary-weight embedding models: quantize and distill a model, evaluate and benchmark it, "
    "index a corpus, search it and serve embeddings over HTTP. `ternembed COMMAND --help` shows a command's options."
)


class CliError(TernembedError):
    """A user error the CLI reports as one clear line and exit code 2 (no traceback)."""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the subcommand named there gets its arguments (the others are
    listed by name and help), so ``ternembed --help`` and one command's options load nothing else."""
    parser = argparse.ArgumentParser(prog="ternembed", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else next((word for word in argv if not word.startswith("-")), "")
    for module_name in SUBCOMMAND_MODULES:
        module = importlib.import_module(f"ternembed.cli.{module_name}")
        sub = subparsers.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if chosen is None or chosen == module.NAME:
            module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def _version() -> str:
    from ternembed import __version__

    return f"ternembed {__version__}"


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
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
