"""Run tasks on a model (and optionally a baseline): scores, sizes, throughput, fidelity, in one report."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ternembed.errors import TernembedError
from ternembed.eval.fidelity import fidelity
from ternembed.eval.models import check_modality, model_folder, model_modalities, weight_bytes
from ternembed.eval.tasks import TEXT_SUITE, EvalTask, resolve_task
from ternembed.eval.wordnet_tasks import Size

PROBE_TEXTS = {"full": 512, "quick": 64}
"""Texts (or images) encoded to measure throughput."""
FIDELITY_TEXTS = {"full": 2000, "quick": 200}
"""Texts (or images) on which teacher-student fidelity is measured."""


@dataclass
class ModelRun:
    """One model's results: mteb task results (dicts in mteb's layout), size and throughput."""

    label: str
    name: str
    weight_bytes: int | None
    texts_per_second: float
    embedding_dim: int
    task_results: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class EvalReport:
    """A model's run, the baseline's run if any, and label-free fidelity between them."""

    size: Size
    tasks: list[EvalTask]
    model: ModelRun
    baseline: ModelRun | None = None
    fidelity: dict[str, float | int] | None = None


def default_tasks(model: Any) -> list[str]:
    """The built-in suite that fits what the model encodes (text tasks or ``fashion-mnist``)."""
    return list(TEXT_SUITE) if "text" in model_modalities(model) else ["fashion-mnist"]


class UnscorableModelError(TernembedError, ValueError):
    """A task could not score the model (constant or non-finite embeddings)."""


def main_scores(task_result: dict[str, Any]) -> dict[str, Any]:
    """The scores entry of a task result: first split, first subset (``main_score`` and mteb metric names)."""
    scores = task_result["scores"]
    split = "test" if "test" in scores else next(iter(scores))
    return scores[split][0]


def headline_metrics(task_result: dict[str, Any]) -> dict[str, float]:
    """``main_score`` and every scalar metric of the task result, under mteb's names."""
    entry = main_scores(task_result)
    return {
        key: float(value)
        for key, value in entry.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def _probe_inputs(modality: str, size: Size, purpose: dict[str, int]) -> list[Any]:
    count = purpose[size]
    if modality == "image":
        from ternembed.data.fashion_mnist import load_fashion_mnist
        from ternembed.eval.image_tasks import to_pil

        images, _ = load_fashion_mnist("test")
        return to_pil(images[:count])
    from ternembed.data.wordnet import load_synsets
    from ternembed.eval.wordnet_tasks import build_clustering

    texts = build_clustering(load_synsets(), size="full").texts
    step = max(len(texts) // count, 1)
    return texts[::step][:count]


def measure_throughput(model: Any, inputs: Sequence[Any], batch_size: int) -> float:
    """Inputs encoded per second (after a warm-up batch), at ``batch_size``."""
    model.encode(list(inputs[:batch_size]), batch_size=batch_size)
    start = time.perf_counter()
    model.encode(list(inputs), batch_size=batch_size)
    return len(inputs) / (time.perf_counter() - start)


def _embedding_dim(model: Any) -> int:
    for method in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        if hasattr(model, method):
            return int(getattr(model, method)())
    raise TypeError(f"{type(model).__name__} does not report its embedding dimension")


def run_model(
    model: Any,
    label: str,
    name: str,
    tasks: Sequence[EvalTask],
    size: Size,
    batch_size: int,
    log: Callable[[str], None] | None = None,
) -> ModelRun:
    """Run every task on one model and measure its throughput on the suite's main modality."""
    for task in tasks:
        check_modality(model, task.modality, task.name)
    folder = model_folder(name) if name else None
    modality = tasks[0].modality if tasks else "text"
    run = ModelRun(
        label=label,
        name=name,
        weight_bytes=weight_bytes(folder) if folder else None,
        texts_per_second=measure_throughput(model, _probe_inputs(modality, size, PROBE_TEXTS), batch_size),
        embedding_dim=_embedding_dim(model),
    )
    for task in tasks:
        if log:
            log(f"[{label}] {task.name} ...")
        run.task_results[task.name] = task.run(model, batch_size)
        score = main_scores(run.task_results[task.name]).get("main_score")
        if not isinstance(score, int | float) or not math.isfinite(score):
            raise UnscorableModelError(
                f"{label}: {task.name} gave no finite {task.main_score} ({score}); the model's embeddings "
                "are constant or not finite, so it cannot be evaluated: check the model folder"
            )
        if log:
            log(
                f"[{label}] {task.name}: {task.main_score} = {main_scores(run.task_results[task.name])['main_score']:.4f}"
            )
    return run


def evaluate(
    model: Any,
    model_name: str,
    task_names: Sequence[str] | None = None,
    baseline: Any = None,
    baseline_name: str | None = None,
    size: Size = "full",
    batch_size: int = 32,
    log: Callable[[str], None] | None = None,
) -> EvalReport:
    """Evaluate ``model`` (and ``baseline``, when given) on the tasks; fidelity when a baseline is given.

    Every task is resolved and checked against both models' modalities before anything runs.

    Raises:
        UnknownTaskError, EvalDataError, ModalityError: Bad task names, data or model/task pairs.
    """
    names = list(task_names) if task_names else default_tasks(model)
    tasks = [resolve_task(name, size) for name in names]
    for candidate in (model, baseline):
        if candidate is not None:
            for task in tasks:
                check_modality(candidate, task.modality, task.name)
    report = EvalReport(
        size=size, tasks=tasks, model=run_model(model, "model", model_name, tasks, size, batch_size, log)
    )
    if baseline is not None:
        report.baseline = run_model(baseline, "baseline", baseline_name or "", tasks, size, batch_size, log)
        modality = tasks[0].modality if tasks else "text"
        report.fidelity = fidelity(baseline, model, _probe_inputs(modality, size, FIDELITY_TEXTS), batch_size)
    return report
