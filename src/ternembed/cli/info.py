"""`ternembed info DIR [--json]`: ternary layers, bits per weight, sparsity, scales and sizes of a folder."""

from __future__ import annotations

import argparse

NAME = "info"
HELP = "Show what a packed ternembed folder holds: bits per weight, sparsity, scales, file size ratio."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="a folder written by `ternembed quantize` or ternembed.save")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    import json

    from ternembed.io.info import format_table, inspect_folder

    info = inspect_folder(args.folder)
    print(json.dumps(info.to_dict(), indent=2) if args.json else format_table(info))
    return 0
