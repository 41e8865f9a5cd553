"""Command-line options shared by several subcommands, each defined once."""

from __future__ import annotations

import argparse
import os

from ternembed.config import ACTIVATION_MODES


def add_activation_argument(parser: argparse.ArgumentParser, purpose: str = "") -> None:
    """``--activations {float,int8}``: the mode packed ternary models run in (default: the fast one).

    ``purpose``: a sentence added to the help where the command uses the mode in its own way.
    """
    parser.add_argument(
        "--activations",
        choices=ACTIVATION_MODES,
        default=None,
        help="activations of packed ternary models: int8 (per-token, about twice as fast on CPU) or float "
        "(exact); default: $TERNEMBED_ACTIVATIONS if set, else int8 where the compiled kernels run. "
        "A model folder keeps the mode it was trained with either way." + (f" {purpose}" if purpose else ""),
    )


def apply_activation_argument(args: argparse.Namespace) -> str | None:
    """Make ``--activations`` the mode of every packed model this command loads, here and in the
    processes it starts (it sets ``$TERNEMBED_ACTIVATIONS``); returns the mode, None if not given."""
    from ternembed.workflow import ACTIVATIONS_ENV

    if args.activations is not None:
        os.environ[ACTIVATIONS_ENV] = args.activations
    return args.activations
