"""`ternembed soup RUN RUN ... --out DIR`: average distilled students' latent weights into one student."""

from __future__ import annotations

import argparse

NAME = "soup"
HELP = "Average the latent weights of students distilled with --keep-latent (a model soup) and save it."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="finished `ternembed distill --keep-latent` folders of one teacher")  # fmt: skip
    parser.add_argument("--out", required=True, help="folder to write the packed soup to")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out folder")


def run(args: argparse.Namespace) -> int:
    from ternembed.distill.soup import soup

    path = soup(args.runs, args.out, overwrite=args.overwrite)
    print(f"saved {path} (the mean of {len(args.runs)} students)")
    return 0
