"""`ternembed push`: upload a packed model folder to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import os
import re

NAME = "push"
HELP = "Upload a packed model folder to the Hugging Face Hub (creates the repository if needed)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="packed ternembed folder (from quantize, distill or soup)")
    parser.add_argument("repo_id", help="Hub repository, e.g. my-name/minilm-ternary")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help="environment variable holding the Hub token (default: huggingface_hub's own login/HF_TOKEN)",
    )


def run(args: argparse.Namespace) -> int:
    from ternembed.cli.main import CliError
    from ternembed.io import NotATernaryModelError
    from ternembed.io.hub import push_to_hub

    if not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo_id):
        raise CliError(f"repo_id must look like 'owner/name', got {args.repo_id!r}")
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            raise CliError(f"--token-env {args.token_env}: that environment variable is not set or empty")
    try:
        url = push_to_hub(args.folder, args.repo_id, private=args.private, token=token)
    except NotATernaryModelError as error:
        raise CliError(str(error)) from None
    print(f"uploaded {args.folder} to {args.repo_id}: {url}")
    return 0
