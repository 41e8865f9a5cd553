"""`ternembed quantize MODEL --out DIR`: ternarize, pack and save a model, then report size and fidelity."""

from __future__ import annotations

import argparse
import sys

from ternembed.config import ACTIVATION_MODES, EMBEDDING_PRECISIONS, STORAGE_FORMATS, THRESHOLD_RULES

NOT_USABLE_NOTE = (
    "note: ternarized without training, this model is not usable as is (its embeddings are far from the "
    "original's, cosine about 0.5 on a MiniLM); train it back with `ternembed distill {model} --out DIR`"
)
NAME = "quantize"
HELP = "Ternarize a text or image encoder, pack it and save it to a folder (no training)."

FIDELITY_METRIC = "mean_cosine_to_base_300_sentences"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", nargs="?", default=None, help="local folder or model id (default: all-MiniLM-L6-v2)"
    )
    parser.add_argument("--out", required=True, help="folder to write the packed model to")
    parser.add_argument("--granularity", default="row", help="tensor, row or group:N (default: row)")
    parser.add_argument("--threshold", default="optimal", choices=THRESHOLD_RULES)
    parser.add_argument("--embeddings", default="int8", choices=EMBEDDING_PRECISIONS)
    parser.add_argument("--storage", default="2bit", choices=STORAGE_FORMATS)
    parser.add_argument("--activations", default="float", choices=ACTIVATION_MODES)
    parser.add_argument("--include", nargs="+", metavar="GLOB", help="module-name globs to ternarize")
    parser.add_argument("--exclude", nargs="+", metavar="GLOB", help="module-name globs to keep in float")
    parser.add_argument("--overwrite", action="store_true", help="replace a non-empty --out folder")
    parser.add_argument(
        "--no-fidelity", action="store_true", help="skip the cosine-to-original check on built-in sentences"
    )


def run(args: argparse.Namespace) -> int:
    import copy
    from pathlib import Path

    from tqdm.auto import tqdm

    from ternembed.config import TernaryConfig
    from ternembed.io import inspect_folder, save
    from ternembed.io.fidelity_check import mean_cosine_to_reference
    from ternembed.io.info import format_table
    from ternembed.io.output_folder import check_output_folder
    from ternembed.models import DEFAULT_MODEL, load_sentence_transformer
    from ternembed.quantize import freeze, prepare
    from ternembed.vision.models import is_image_model, quantize_image_model

    defaults = TernaryConfig()
    config = TernaryConfig(
        include=tuple(args.include or defaults.include),
        exclude=tuple(args.exclude or defaults.exclude),
        granularity=args.granularity,
        threshold=args.threshold,
        storage=args.storage,
        embeddings=args.embeddings,
        activations=args.activations,
    )
    out = Path(args.out)
    inputs = [args.model]
    check_output_folder(out, overwrite=args.overwrite, inputs=inputs)  # before any work
    if is_image_model(args.model):
        overrides = {
            f: getattr(args, f) for f in ("granularity", "threshold", "storage", "embeddings", "activations")
        }
        overrides.update({f: tuple(getattr(args, f)) for f in ("include", "exclude") if getattr(args, f)})
        print(
            format_table(
                inspect_folder(quantize_image_model(args.model, out, overwrite=args.overwrite, **overrides))
            )
        )
        return 0
    base_model = args.model or DEFAULT_MODEL
    stages = ["load", "ternarize", "pack", "fidelity", "save"]
    if args.no_fidelity:
        stages.remove("fidelity")
    quality = None
    with tqdm(total=len(stages), desc="quantize", unit="step") as progress:
        progress.set_postfix_str("loading the full-precision model")
        model = load_sentence_transformer(args.model)
        reference = None if args.no_fidelity else copy.deepcopy(model)
        progress.update()
        progress.set_postfix_str("ternarizing")
        prepare(model, config)
        progress.update()
        progress.set_postfix_str("packing")
        freeze(model, config)
        progress.update()
        if reference is not None:
            progress.set_postfix_str("cosine to the original on built-in sentences")
            quality = {FIDELITY_METRIC: mean_cosine_to_reference(model, reference)}
            progress.update()
        progress.set_postfix_str(f"saving to {out}")
        folder = save(
            model, out, config, base_model=str(base_model), quality=quality, overwrite=args.overwrite,
            inputs=inputs,
        )  # fmt: skip
        progress.update()
    print(format_table(inspect_folder(folder)))
    if quality is not None:
        print(f"\nmean cosine to the original model (300 built-in sentences): {quality[FIDELITY_METRIC]:.4f}")
    print(NOT_USABLE_NOTE.format(model=args.model), file=sys.stderr)
    return 0
