"""Effect of compressing only the embedding tables (fp16 / int8 / int4) on embeddings and file size.

The linear layers stay fp32, so the numbers isolate the embedding tables (in all-MiniLM-L6-v2 the
token table is 11.7M of 22.7M parameters). A second table repeats the measurement with the linear
layers ternarized by the default TernaryConfig (no distillation), to show which loss dominates.

    python benchmarks/embedding_compression.py [--model all-MiniLM-L6-v2] [--sentences 300]

Writes ``benchmarks/results/embedding_compression.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import copy
import json
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

PRECISIONS = ("fp16", "int8", "int4")
RESULTS_DIR = Path(__file__).parent / "results"


def compress_embeddings(model: nn.Module, precision: str) -> nn.Module:
    """Swap every nn.Embedding of ``model`` for a QuantizedEmbedding, leaving the linear layers alone."""
    from ternembed.nn import QuantizedEmbedding

    for name in [name for name, module in model.named_modules() if type(module) is nn.Embedding]:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, QuantizedEmbedding.from_embedding(getattr(parent, child), precision))
    return model


def weights_file_bytes(hf_model: nn.Module) -> int:
    """Size of a model.safetensors holding this model's state dict."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.safetensors"
        state = {name: tensor.contiguous() for name, tensor in hf_model.state_dict().items()}
        save_file(state, str(path), metadata={"format": "pt"})
        return path.stat().st_size


def cosine_stats(embeddings: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
    cosine = torch.nn.functional.cosine_similarity(embeddings, reference, dim=-1)
    return {"cosine_mean": float(cosine.mean()), "cosine_min": float(cosine.min())}


def measure(model_name: str | None, sentence_count: int) -> dict:
    from ternembed import TernaryConfig, freeze, prepare
    from ternembed.io.fidelity_check import builtin_sentences
    from ternembed.models import load_sentence_transformer, resolve_model

    sentences = builtin_sentences(sentence_count)
    base = load_sentence_transformer(model_name)
    reference = base.encode(sentences, batch_size=64, convert_to_tensor=True)
    fp32_bytes = weights_file_bytes(base[0].auto_model)
    rows = [
        {
            "linears": "fp32",
            "embeddings": "fp32",
            "cosine_mean": 1.0,
            "cosine_min": 1.0,
            "weights_bytes": fp32_bytes,
        }
    ]
    for precision in PRECISIONS:
        model = compress_embeddings(copy.deepcopy(base), precision)
        embeddings = model.encode(sentences, batch_size=64, convert_to_tensor=True)
        rows.append(
            {
                "linears": "fp32",
                "embeddings": precision,
                **cosine_stats(embeddings, reference),
                "weights_bytes": weights_file_bytes(model[0].auto_model),
            }
        )
    for precision in ("fp32", *PRECISIONS):
        config = TernaryConfig(embeddings=precision)
        model = freeze(prepare(copy.deepcopy(base), config), config)
        embeddings = model.encode(sentences, batch_size=64, convert_to_tensor=True)
        rows.append(
            {
                "linears": f"ternary ({config.granularity}/{config.threshold}/{config.storage}, no distillation)",
                "embeddings": precision,
                **cosine_stats(embeddings, reference),
                "weights_bytes": weights_file_bytes(model[0].auto_model),
            }
        )
    for row in rows:
        row["ratio_to_fp32"] = row["weights_bytes"] / fp32_bytes
    return {
        "model": str(model_name or "sentence-transformers/all-MiniLM-L6-v2"),
        "model_path": resolve_model(model_name),
        "sentences": len(sentences),
        "sentence_source": "ternembed.io.fidelity_check.builtin_sentences",
        "torch": torch.__version__,
        "rows": rows,
    }


def to_markdown(result: dict) -> str:
    lines = [
        f"Model: {result['model']}; {result['sentences']} built-in sentences; cosine of each sentence "
        "embedding to the uncompressed fp32 model's; weights = size of model.safetensors.",
        "",
        "| linear layers | embedding tables | mean cosine | min cosine | weights bytes | ratio to fp32 |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['linears']} | {row['embeddings']} | {row['cosine_mean']:.5f} | {row['cosine_min']:.5f} | "
            f"{row['weights_bytes']:,} | {row['ratio_to_fp32']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder or id (default: all-MiniLM-L6-v2)")
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    started = time.time()
    result = measure(args.model, args.sentences)
    result["seconds"] = round(time.time() - started, 1)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "embedding_compression.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = to_markdown(result)
    (args.out_dir / "embedding_compression.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
