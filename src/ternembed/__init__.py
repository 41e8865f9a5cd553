"""ternembed: ternary-weight embedding models that are small, fast on CPU and distilled to keep quality.

Importing the package registers the ``ternembed`` quantization method with transformers, so
``AutoModel.from_pretrained`` and ``SentenceTransformer`` can read folders written by :func:`save`.
The public names below are imported on first use, so ``import ternembed`` itself stays light.
"""

from __future__ import annotations

import os
import sys

from ternembed.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "DistillArguments": "ternembed.distill",
    "TernaryConfig": "ternembed.config",
    "TernarySentenceTransformer": "ternembed.io",
    "TernembedError": "ternembed.errors",
    "distill": "ternembed.distill",
    "freeze": "ternembed.quantize",
    "load": "ternembed.workflow",
    "prepare": "ternembed.quantize",
    "register_with_transformers": "ternembed.io",
    "save": "ternembed.io",
    "set_activations": "ternembed.quantize",
    "ternarize_model": "ternembed.workflow",
    "ternary_layers": "ternembed.quantize",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


def _started_by_the_command_line() -> bool:
    """True in a ``ternembed`` CLI process: its commands register with transformers when they load a
    model, so ``--help`` and argument errors need not import torch and transformers first."""
    command = getattr(sys, "orig_argv", sys.argv)
    module = command[command.index("-m") + 1] if "-m" in command[:-1] else None
    return os.path.basename(sys.argv[0]) == "ternembed" or module == "ternembed.cli.main"


if not _started_by_the_command_line():
    __getattr__("register_with_transformers")()
