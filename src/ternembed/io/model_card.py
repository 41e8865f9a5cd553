"""The README.md model card of a saved folder: base model, method, bits per weight, sizes, quality."""

from __future__ import annotations

from pathlib import Path

from ternembed.io.info import inspect_folder

MODEL_CARD_FILENAME = "README.md"


def render_model_card(folder: Path, quality: dict[str, float] | None = None) -> str:
    """Markdown describing the packed model in ``folder`` (its manifest and weights must be written)."""
    info = inspect_folder(folder)
    config = info.ternary_config
    base = info.base_model or "unknown"
    lines = [
        "---",
        "library_name: sentence-transformers",
        "tags:",
        "- ternembed",
        "- ternary",
        "- sentence-transformers",
        *([f"base_model: {base}"] if info.base_model else []),
        "---",
        "",
        f"# Ternary version of {base}",
        "",
        "The linear layers of the encoder are stored as ternary codes {-1, 0, +1} with scales "
        f"(`threshold={config['threshold']}`, `granularity={config['granularity']}`, "
        f"`storage={config['storage']}`, `activations={config['activations']}`); embedding tables are "
        f"stored as `{info.embedding_precision}`. Made with ternembed.",
        "",
        "## Size",
        "",
        "| | value |",
        "|---|---|",
        f"| ternary layers | {len(info.layers)} ({info.linear_weights:,} weights) |",
        f"| code bits per linear weight | {info.linear_bits_per_weight:.3f} |",
        f"| scale bits per linear weight | {info.scale_bits_per_weight:.3f} |",
        f"| share of zero codes | {info.zero_fraction:.3f} |",
        f"| weights file(s) | {info.weights_bytes:,} bytes |",
        f"| same model as fp32 safetensors | {info.fp32_weights_bytes:,} bytes |",
        f"| ratio | {info.ratio:.3f} |",
        "",
        "## Quality",
        "",
    ]
    if quality:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {name} | {_format_metric(value)} |" for name, value in quality.items()]
    else:
        lines.append("Not measured yet.")
    lines += [
        "",
        "## Usage",
        "",
        "```python",
        "import ternembed",
        "",
        'model = ternembed.load("PATH_TO_THIS_FOLDER")',
        'embeddings = model.encode(["a sentence"], normalize_embeddings=True)',
        "```",
        "",
        "`SentenceTransformer(PATH)` and `AutoModel.from_pretrained(PATH)` also work after `import ternembed`, "
        "which registers the `ternembed` quantization method with transformers.",
        "",
    ]
    return "\n".join(lines)


def _format_metric(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_model_card(folder: Path, quality: dict[str, float] | None = None) -> Path:
    path = folder / MODEL_CARD_FILENAME
    path.write_text(render_model_card(folder, quality))
    return path
