"""The README.md model card of a saved folder: Hub metadata (YAML front matter) and the text below it.

The front matter is written with huggingface_hub's ``ModelCardData``, so the Hub reads it as it reads
any card: ``base_model`` (a Hub id, when the source's name or folder tells it), ``base_model_relation:
quantized``, the base model's license and language, ``pipeline_tag``, tags, and evaluation results as
``model-index``. ``library_name`` is ``ternembed``, not ``sentence-transformers``: the Hub's generated
sentence-transformers snippet lacks ``import ternembed`` and would fail on this folder; the
``sentence-transformers`` tag still lists it beside other embedding models.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ternembed.io.info import inspect_folder

MODEL_CARD_FILENAME = "README.md"
LIBRARY_NAME = "ternembed"
RUN_CONFIG_FILENAME = "distill_config.json"
_TRAINING_KEYS = ("epochs", "max_steps", "batch_size", "grad_accum", "max_seq_length", "lr", "lr_schedule")
_TRAINING_KEYS += ("warmup_ratio", "weight_decay", "loss", "seed", "bf16")
_EVALUATION_HEADING = "## Evaluation"
_TASK_TYPES = (
    (("ndcg", "map", "mrr", "recall", "precision"), "Retrieval"),
    (("spearman", "pearson"), "STS"),
    (("accuracy", "f1"), "Classification"),
    (("v_measure",), "Clustering"),
)


def hub_id_of(base_model: str | None) -> str | None:
    """The Hub id of a base model given as a Hub id, a short name or a local folder, if it can be told."""
    from ternembed.models import DEFAULT_MODEL, MPNET_MODEL, ModelNotFoundError, resolve_model

    if not base_model:
        return None
    known = {hub_id.split("/")[1]: hub_id for hub_id in (DEFAULT_MODEL, MPNET_MODEL)}
    if base_model in known.values():
        return base_model
    if base_model in known:
        return known[base_model]
    cached = re.search(r"models--([\w.-]+)--([\w.-]+)", base_model)
    if cached:
        return f"{cached.group(1)}/{cached.group(2)}"
    path = Path(base_model).expanduser()
    if path.exists():
        for hub_id in known.values():
            try:
                if Path(resolve_model(hub_id)).resolve() == path.resolve():
                    return hub_id
            except ModelNotFoundError:
                continue
        return None
    return base_model if re.fullmatch(r"[\w.-]+/[\w.-]+", base_model) else None


def _source_card_data(base_model: str | None) -> dict[str, Any]:
    """License and language from the base model's own README.md, when it is a local folder."""
    from ternembed.models import ModelNotFoundError, resolve_model

    if not base_model:
        return {}
    try:
        card_path = Path(resolve_model(base_model)) / MODEL_CARD_FILENAME
    except ModelNotFoundError:
        return {}
    if not card_path.is_file():
        return {}
    data = ModelCard.load(card_path, ignore_metadata_errors=True).data.to_dict()
    return {key: data[key] for key in ("license", "language") if data.get(key)}


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _task_type(main_score_name: str) -> str:
    for prefixes, task_type in _TASK_TYPES:
        if any(prefix in main_score_name for prefix in prefixes):
            return task_type
    return "Other"


def eval_results_from_report(summary: dict[str, Any]) -> list[EvalResult]:
    """``model-index`` entries for an evaluation summary (``ternembed eval``'s report.json)."""
    results = []
    for task in summary.get("tasks", []):
        results.append(
            EvalResult(
                task_type=_task_type(task["main_score_name"]),
                task_name=task["task"],
                dataset_type=task["task"],
                dataset_name=task["task"],
                metric_type=task["main_score_name"],
                metric_value=task["main_score"],
            )
        )
    return results


def _evaluation_section(results: list[EvalResult]) -> list[str]:
    lines = [_EVALUATION_HEADING, ""]
    if not results:
        return [
            *lines,
            "Not evaluated yet: `ternembed eval DIR --out REPORT_DIR --update-card` fills this in.",
            "",
        ]
    lines += ["| task | metric | value |", "|---|---|---|"]
    lines += [f"| {r.task_name or r.dataset_name} | {r.metric_type} | {r.metric_value} |" for r in results]
    return [*lines, ""]


def _card_data(folder: Path, info: Any, results: list[EvalResult], run: dict[str, Any]) -> ModelCardData:
    base = hub_id_of(info.base_model)
    source = _source_card_data(info.base_model)
    corpus = run.get("corpus", {})
    return ModelCardData(
        base_model=base,
        base_model_relation="quantized" if base else None,
        license=source.get("license"),
        language=source.get("language"),
        library_name=LIBRARY_NAME,
        pipeline_tag="sentence-similarity",
        tags=["ternembed", "ternary", "sentence-transformers", "feature-extraction", "sentence-similarity"],
        datasets=[corpus["data"]] if isinstance(corpus.get("data"), str) and "/" in corpus["data"] else None,
        model_name=f"{folder.name} (ternary {base or info.base_model or 'model'})",
        eval_results=results or None,
    )


def render_model_card(
    folder: Path, quality: dict[str, float] | None = None, eval_results: list[EvalResult] | None = None
) -> str:
    """The model card of the packed model in ``folder`` (its manifest and weights must be written)."""
    info = inspect_folder(folder)
    config = info.ternary_config
    run = _read_json(folder / RUN_CONFIG_FILENAME)
    st_config = _read_json(folder / "sentence_bert_config.json")
    results = list(eval_results or [])
    data = _card_data(folder, info, results, run)
    base = info.base_model or "unknown"
    lines = [
        f"# Ternary version of {base}",
        "",
        "The linear layers of the encoder are stored as ternary codes {-1, 0, +1} with scales "
        f"(`threshold={config['threshold']}`, `granularity={config['granularity']}`, "
        f"`storage={config['storage']}`, `activations={config['activations']}`); embedding tables are "
        f"stored as `{info.embedding_precision}`. Made with ternembed.",
        "",
        *(
            [f"Maximum sequence length: {st_config['max_seq_length']} tokens.", ""]
            if st_config.get("max_seq_length")
            else []
        ),
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
        *_training_section(run),
        "## Quality",
        "",
    ]
    if quality:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {name} | {_format_metric(value)} |" for name, value in quality.items()]
    else:
        lines.append("Not measured yet.")
    lines += ["", *_evaluation_section(results), *_USAGE]
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n".join(lines)


def _training_section(run: dict[str, Any]) -> list[str]:
    if not run:
        return [
            "## Training",
            "",
            "No distillation run is recorded in this folder (`distill_config.json`).",
            "",
        ]
    corpus = run.get("corpus", {})
    arguments = run.get("arguments", {})
    lines = [
        "## Training",
        "",
        f"Distilled from the frozen base model on {corpus.get('train_items', '?'):,} texts of "
        f"`{corpus.get('data', 'the default corpus')}` (corpus fingerprint `{run.get('corpus_fingerprint')}`), "
        f"{run.get('step', '?')} steps.",
        "",
        "| hyper-parameter | value |",
        "|---|---|",
    ]
    lines += [f"| {key} | {arguments[key]} |" for key in _TRAINING_KEYS if arguments.get(key) is not None]
    return [*lines, ""]


_USAGE = [
    "## Intended uses and limitations",
    "",
    "Sentence and short-paragraph embeddings for semantic search, clustering and similarity, on CPU, where "
    "the base model is too large or too slow. Ternary weights lose some quality against the base model "
    "(see the tables above); measure on your own data before replacing it. Inputs longer than the maximum "
    "sequence length are cut. Language coverage and biases are those of the base model and of the "
    "distillation corpus.",
    "",
    "## Usage",
    "",
    "Install `pip install ternembed`, then:",
    "",
    "```python",
    "import ternembed",
    "",
    'model = ternembed.load("PATH_OR_REPO_FOLDER")',
    'embeddings = model.encode(["a sentence"], normalize_embeddings=True)',
    "```",
    "",
    "Stock loaders work after `import ternembed` (without it they refuse the `ternembed-<type>` model type):",
    "",
    "```python",
    "import ternembed  # registers the packed architecture with transformers",
    "from sentence_transformers import SentenceTransformer",
    "from transformers import AutoModel",
    "",
    'model = SentenceTransformer("PATH_OR_REPO_FOLDER")',
    'encoder = AutoModel.from_pretrained("PATH_OR_REPO_FOLDER")',
    "```",
    "",
    "Serve it over HTTP: `ternembed serve PATH_OR_REPO_FOLDER`.",
    "",
]


def _format_metric(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def write_model_card(
    folder: Path, quality: dict[str, float] | None = None, eval_results: list[EvalResult] | None = None
) -> Path:
    path = folder / MODEL_CARD_FILENAME
    path.write_text(render_model_card(folder, quality, eval_results))
    return path


def update_model_card(folder: Path, eval_results: list[EvalResult]) -> Path:
    """Put ``eval_results`` into the card's ``model-index`` and Evaluation section, keeping the rest.

    Results for a task and metric already in the card are replaced; others are kept.
    """
    path = folder / MODEL_CARD_FILENAME
    card = ModelCard.load(path)
    new_keys = {(r.task_name, r.metric_type) for r in eval_results}
    kept = [r for r in card.data.eval_results or [] if (r.task_name, r.metric_type) not in new_keys]
    results = kept + list(eval_results)
    card.data.eval_results = results
    if not card.data.model_name:
        card.data.model_name = folder.name
    section = "\n".join(_evaluation_section(results))
    text = card.text
    start = text.find(_EVALUATION_HEADING)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(_EVALUATION_HEADING))
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    card.text = text
    path.write_text(ModelCard(f"---\n{card.data.to_yaml()}\n---\n{card.text}").content)
    return path
