"""The task registry: built-in names, user data paths and stock MTEB names, resolved to runnable tasks.

A task name is, in order: a built-in name (``ternembed eval --list``), a path (a BEIR folder, an STS
CSV ``sentence1,sentence2,score`` or a classification CSV ``text,label``), or a stock MTEB task
name handed to mteb (which needs internet to download its data).
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from ternembed.data.wordnet import load_synsets
from ternembed.errors import TernembedError
from ternembed.eval import manual_tasks, wordnet_tasks
from ternembed.eval.user_data import EvalDataError, read_beir_folder, read_classification_csv, read_sts_csv
from ternembed.eval.wordnet_tasks import RetrievalData, Size

Modality = Literal["text", "image"]
Domain = Literal["in-domain", "out-of-domain", "other"]
WORDNET_REVISION = "wordnet-3.0-eval-split-v1"
MANUALS_REVISION = "manpages-6.03-linux-doc-6.1-heldout-v1"
TEXT_SUITE = (
    "wordnet-retrieval",
    "wordnet-topics",
    "wordnet-clustering",
    "wordnet-pairs",
    "wordnet-similarity",
    "manpages-retrieval",
    "kernel-docs-retrieval",
    "kernel-docs-topics",
)
"""The built-in text tasks, run by default on a text model: WordNet (the default training text's
source, in-domain) and technical documentation no training corpus holds (out-of-domain)."""


class UnknownTaskError(TernembedError, ValueError):
    """A task name is neither built in, nor a path to user data, nor a stock MTEB task."""


class ModalityError(TernembedError, ValueError):
    """The model cannot encode the inputs (text or images) a task needs."""


@dataclass(frozen=True)
class BuiltinTask:
    """A built-in task: its name, what it measures and its main score under mteb's name."""

    name: str
    modality: Modality
    main_score: str
    description: str
    domain: Domain = "in-domain"


BUILTIN_TASKS = {
    task.name: task
    for task in (
        BuiltinTask(
            "wordnet-retrieval",
            "text",
            "ndcg_at_10",
            "WordNet retrieval: 1,000 queries listing an unambiguous synset's lemmas and 1,000 example sentences "
            "with the word masked; corpus of 20,000 glosses with every answer and its near neighbours "
            "(hypernyms, hyponyms, siblings, other senses). nDCG@10, Recall@10, MRR@10.",
        ),
        BuiltinTask(
            "wordnet-topics",
            "text",
            "accuracy",
            "WordNet topic classification: gloss -> lexicographer file (up to 45 topics such as noun.animal); "
            "mteb protocol (logistic regression on embeddings, 32 per topic, 5 experiments). Accuracy.",
        ),
        BuiltinTask(
            "wordnet-clustering",
            "text",
            "v_measure",
            "WordNet topic clustering: glosses of up to 64 synsets per lexicographer file, k-means. V-measure.",
        ),
        BuiltinTask(
            "wordnet-pairs",
            "text",
            "max_ap",
            "WordNet pairs: two lemmas of one synset (synonyms sharing no word) vs a lemma and an unrelated "
            "lemma of the same topic, balanced. Max average precision over similarity functions.",
        ),
        BuiltinTask(
            "wordnet-similarity",
            "text",
            "cosine_spearman",
            "WordNet graded similarity: gloss pairs of nouns (an anchor with a sibling, a cousin, a same-topic "
            "and a random noun) graded by the Wu-Palmer similarity of their synsets in the hypernym graph; "
            "taxonomy distance, not human judgement. Spearman of cosine similarity.",
        ),
        BuiltinTask(
            "manpages-retrieval",
            "text",
            "ndcg_at_10",
            "Linux manual pages (Debian manpages, manpages-dev; sections 2-7), held-out half: query = a page's "
            "one-line NAME summary, corpus = the pages' DESCRIPTION sections (first 256 words). nDCG@10.",
            "out-of-domain",
        ),
        BuiltinTask(
            "kernel-docs-retrieval",
            "text",
            "ndcg_at_10",
            "Linux kernel documentation (Debian linux-doc), held-out half: query = a section heading of 3+ "
            "words no other section shares, corpus = section texts (first 256 words). nDCG@10.",
            "out-of-domain",
        ),
        BuiltinTask(
            "kernel-docs-topics",
            "text",
            "accuracy",
            "Linux kernel documentation sections -> their top-level folder (the 10 largest, e.g. networking, "
            "filesystems); mteb protocol (logistic regression on embeddings). Accuracy.",
            "out-of-domain",
        ),
        BuiltinTask(
            "fashion-mnist",
            "image",
            "accuracy",
            "Fashion-MNIST for image encoders: linear-probe accuracy (main) and 10-NN accuracy of embeddings.",
        ),
    )
}


@dataclass
class EvalTask:
    """A resolved task, ready to run on a model."""

    name: str
    modality: Modality
    main_score: str
    run: Callable[[Any, int], dict[str, Any]]
    """``run(model, batch_size)`` -> the result in mteb's ``TaskResult`` layout (a dict)."""
    domain: Domain = "other"
    """Built-in tasks say whether the default training text's source is theirs; user data is "other"."""


def list_tasks() -> list[BuiltinTask]:
    """The built-in tasks, in the order they run."""
    return list(BUILTIN_TASKS.values())


def _wordnet_loader(builder: Callable[..., Any], size: Size) -> Callable[[], Any]:
    return lambda: builder(load_synsets(), size=size)


def _run_mteb(task: Any, model: Any, batch_size: int) -> dict[str, Any]:
    import mteb

    start = time.monotonic()
    result = mteb.evaluate(
        model,
        task,
        cache=None,
        co2_tracker=False,
        show_progress_bar=False,
        overwrite_strategy="always",
        encode_kwargs={"batch_size": batch_size, "show_progress_bar": False},
    )
    task_result = result.task_results[0].to_dict()
    task_result["evaluation_time"] = time.monotonic() - start
    return task_result


def _mteb_eval_task(task: Any) -> EvalTask:
    return EvalTask(task.metadata.name, "text", task.metadata.main_score, partial(_run_mteb, task))


def _builtin(name: str, size: Size) -> EvalTask:
    task = _builtin_task(name, size)
    task.domain = BUILTIN_TASKS[name].domain
    return task


def _builtin_task(name: str, size: Size) -> EvalTask:
    from ternembed.eval import mteb_tasks
    from ternembed.eval.image_tasks import FashionMnistTask

    info = BUILTIN_TASKS[name]
    manuals = {
        "manpages-retrieval": (mteb_tasks.retrieval_task, manual_tasks.build_manpage_retrieval),
        "kernel-docs-retrieval": (mteb_tasks.retrieval_task, manual_tasks.build_kernel_retrieval),
        "kernel-docs-topics": (mteb_tasks.classification_task, manual_tasks.build_kernel_topics),
    }
    if name in manuals:
        factory, builder = manuals[name]
        return _mteb_eval_task(
            factory(name, partial(builder, size), info.description, f"{MANUALS_REVISION}-{size}")
        )
    revision = f"{WORDNET_REVISION}-{size}"
    if name == "wordnet-retrieval":
        loader = partial(load_retrieval_data, name, size)
        return _mteb_eval_task(mteb_tasks.retrieval_task(name, loader, info.description, revision))
    if name == "wordnet-topics":
        loader = _wordnet_loader(wordnet_tasks.build_topics, size)
        return _mteb_eval_task(mteb_tasks.classification_task(name, loader, info.description, revision))
    if name == "wordnet-clustering":
        loader = _wordnet_loader(wordnet_tasks.build_clustering, size)
        return _mteb_eval_task(mteb_tasks.clustering_task(name, loader, info.description, revision))
    if name == "wordnet-pairs":
        loader = _wordnet_loader(wordnet_tasks.build_pairs, size)
        return _mteb_eval_task(mteb_tasks.pair_classification_task(name, loader, info.description, revision))
    if name == "wordnet-similarity":
        loader = _wordnet_loader(wordnet_tasks.build_similarity, size)
        return _mteb_eval_task(mteb_tasks.sts_task(name, loader, info.description, revision))
    image_task = FashionMnistTask(size)
    return EvalTask(name, "image", image_task.main_score, image_task.run)


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _user_task(path: Path) -> EvalTask:
    from ternembed.eval import mteb_tasks

    name, revision = path.stem if path.is_file() else path.name, f"file:{path.resolve()}"
    if path.is_dir():
        description = f"BEIR folder {path}"
        return _mteb_eval_task(
            mteb_tasks.retrieval_task(name, partial(read_beir_folder, path), description, revision)
        )
    header = [column.strip() for column in _csv_header(path)]
    if {"sentence1", "sentence2", "score"} <= set(header):
        return _mteb_eval_task(
            mteb_tasks.sts_task(name, partial(read_sts_csv, path), f"STS CSV {path}", revision)
        )
    if {"text", "label"} <= set(header):
        loader = lambda: {"train": read_classification_csv(path, min_per_label=5)}  # noqa: E731
        description = f"classification CSV {path} (5-fold cross-validation)"
        task = mteb_tasks.classification_task(name, loader, description, revision, cross_validation=True)
        return _mteb_eval_task(task)
    raise EvalDataError(
        f"{path}:1: header {header} is neither an STS CSV (sentence1,sentence2,score) "
        f"nor a classification CSV (text,label)"
    )


def _stock_mteb(name: str) -> EvalTask:
    import mteb

    try:
        task = mteb.get_task(name)
    except KeyError:
        raise UnknownTaskError(
            f"unknown task {name!r}: not a built-in task ({', '.join(BUILTIN_TASKS)}), not an existing path "
            f"(BEIR folder, STS or classification CSV), and not a stock MTEB task name"
        ) from None

    def run(model: Any, batch_size: int) -> dict[str, Any]:
        try:
            return _run_mteb(task, model, batch_size)
        except (OSError, ConnectionError) as error:
            raise EvalDataError(
                f"stock MTEB task {name!r} could not load its data from the Hugging Face hub ({type(error).__name__}); "
                f"it needs internet access (unset HF_HUB_OFFLINE) or a filled HF datasets cache"
            ) from error

    return EvalTask(name, "text", task.metadata.main_score, run)


def resolve_task(name: str, size: Size = "full") -> EvalTask:
    """Resolve a task name or data path to a runnable task.

    Raises:
        UnknownTaskError: The name is not built in, not a path and not a stock MTEB task.
        EvalDataError: A CSV path whose header fits no task type.
    """
    if name in BUILTIN_TASKS:
        return _builtin(name, size)
    path = Path(name).expanduser()
    if path.exists():
        return _user_task(path)
    if name.startswith((".", "/", "~")) or name.endswith((".csv", ".jsonl", ".tsv")) or os.sep in name:
        raise EvalDataError(f"task data path {name!r} does not exist")
    return _stock_mteb(name)


def load_retrieval_data(name_or_beir_dir: str | os.PathLike, size: Size = "full") -> RetrievalData:
    """Raw retrieval data (``corpus``, ``queries``, ``qrels`` dicts) of ``wordnet-retrieval`` or a BEIR folder.

    The same data the ``wordnet-retrieval`` task scores on, for ANN benchmarks and fidelity checks.

    Raises:
        UnknownTaskError: Neither ``wordnet-retrieval`` nor an existing folder.
        EvalDataError: A malformed BEIR folder (the message names the file and line).
    """
    if str(name_or_beir_dir) == "wordnet-retrieval":
        return wordnet_tasks.build_retrieval(load_synsets(), size=size)
    path = Path(name_or_beir_dir).expanduser()
    if path.is_dir():
        return read_beir_folder(path)
    raise UnknownTaskError(
        f"no retrieval data for {str(name_or_beir_dir)!r}: use 'wordnet-retrieval' or a BEIR folder "
        f"(corpus.jsonl, queries.jsonl, qrels/test.tsv)"
    )
