"""mteb task classes over local data, so every text task is scored by mteb's own evaluators.

Each factory returns an mteb ``AbsTask`` instance whose ``load_data`` calls a loader of ours
(WordNet builders or user files) instead of the Hugging Face hub. Data is built only when the
task runs, so listing tasks stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datasets import Dataset, DatasetDict
from mteb.abstasks.classification import AbsTaskClassification
from mteb.abstasks.clustering import AbsTaskClustering
from mteb.abstasks.pair_classification import AbsTaskPairClassification
from mteb.abstasks.retrieval import AbsTaskRetrieval
from mteb.abstasks.retrieval_dataset_loaders import RetrievalSplitData
from mteb.abstasks.sts import AbsTaskSTS
from mteb.abstasks.task_metadata import TaskMetadata

from ternembed.eval.wordnet_tasks import LabelledTexts, RetrievalData, TextPairs

SEED = 42
"""mteb's own default seed, fixed for every task (sampling in classifiers and clustering)."""

RETRIEVAL_K_VALUES = (1, 3, 5, 10, 20, 100)


def _metadata(name: str, task_type: str, main_score: str, description: str, revision: str) -> TaskMetadata:
    return TaskMetadata(
        name=name,
        type=task_type,
        main_score=main_score,
        description=description,
        reference=None,
        dataset={"path": f"local/{name}", "revision": revision},
        category="t2t",
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        date=None,
        dialect=[],
        domains=[],
        task_subtypes=[],
        license="not specified",
        annotations_creators="derived",
        modalities=["text"],
        sample_creation="found",
        bibtex_citation="",
    )


def retrieval_task(
    name: str, load: Callable[[], RetrievalData], description: str, revision: str
) -> AbsTaskRetrieval:
    """An mteb retrieval task (main score nDCG@10) over corpus, queries and qrels from ``load``."""

    class LocalRetrieval(AbsTaskRetrieval):
        metadata = _metadata(name, "Retrieval", "ndcg_at_10", description, revision)
        k_values = RETRIEVAL_K_VALUES

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            data = load()
            split = RetrievalSplitData(
                corpus=Dataset.from_dict(
                    {
                        "id": list(data.corpus),
                        "text": list(data.corpus.values()),
                        "title": [""] * len(data.corpus),
                    }
                ),
                queries=Dataset.from_dict({"id": list(data.queries), "text": list(data.queries.values())}),
                relevant_docs=data.qrels,
                top_ranked=None,
            )
            self.dataset = {"default": {"test": split}}
            self.data_loaded = True

    return LocalRetrieval(seed=SEED)


def classification_task(
    name: str,
    load: Callable[[], dict[str, LabelledTexts]],
    description: str,
    revision: str,
    samples_per_label: int = 32,
    n_experiments: int = 5,
    cross_validation: bool = False,
) -> AbsTaskClassification:
    """An mteb classification task: logistic regression on embeddings, main score accuracy.

    ``load`` returns ``{"train": ..., "test": ...}``; with ``cross_validation`` it returns only
    ``{"train": ...}`` and the score is a 5-fold cross-validation over all rows (user CSVs).
    Labels become integer ids in sorted order (mteb's binary metrics expect ``pos_label=1``).
    """

    class LocalClassification(AbsTaskClassification):
        metadata = _metadata(name, "Classification", "accuracy", description, revision)
        is_cross_validation = cross_validation

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            splits = load()
            label_ids = {
                label: i for i, label in enumerate(sorted({lab for d in splits.values() for lab in d.labels}))
            }
            self.dataset = DatasetDict(
                {
                    split: Dataset.from_dict(
                        {"text": data.texts, "label": [label_ids[lab] for lab in data.labels]}
                    )
                    for split, data in splits.items()
                }
            )
            self.data_loaded = True

    if cross_validation:
        LocalClassification.metadata.eval_splits = ["train"]
    task = LocalClassification(seed=SEED)
    task.samples_per_label = samples_per_label
    task.n_experiments = n_experiments
    return task


def clustering_task(
    name: str, load: Callable[[], LabelledTexts], description: str, revision: str
) -> AbsTaskClustering:
    """An mteb clustering task (k-means over all texts, 10 bootstrap samples), main score V-measure."""

    class LocalClustering(AbsTaskClustering):
        metadata = _metadata(name, "Clustering", "v_measure", description, revision)
        max_fraction_of_documents_to_embed = None
        max_documents_per_cluster = 2048

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            data = load()
            self.dataset = DatasetDict(
                {"test": Dataset.from_dict({"sentences": data.texts, "labels": data.labels})}
            )
            self.data_loaded = True

    return LocalClustering(seed=SEED)


def pair_classification_task(
    name: str, load: Callable[[], TextPairs], description: str, revision: str
) -> AbsTaskPairClassification:
    """An mteb pair classification task (labels 0/1), main score max average precision."""

    class LocalPairClassification(AbsTaskPairClassification):
        metadata = _metadata(name, "PairClassification", "max_ap", description, revision)

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            pairs = load()
            labels = [int(label) for label in pairs.labels]
            self.dataset = DatasetDict(
                {
                    "test": Dataset.from_dict(
                        {"sentence1": pairs.first, "sentence2": pairs.second, "labels": labels}
                    )
                }
            )
            self.data_loaded = True

    return LocalPairClassification(seed=SEED)


def sts_task(name: str, load: Callable[[], TextPairs], description: str, revision: str) -> AbsTaskSTS:
    """An mteb STS task, main score Spearman correlation of cosine similarity with the scores."""

    class LocalSTS(AbsTaskSTS):
        metadata = _metadata(name, "STS", "cosine_spearman", description, revision)

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            pairs = load()
            self.min_score, self.max_score = min(pairs.labels), max(pairs.labels)
            self.dataset = DatasetDict(
                {
                    "test": Dataset.from_dict(
                        {"sentence1": pairs.first, "sentence2": pairs.second, "score": pairs.labels}
                    )
                }
            )
            self.data_loaded = True

    return LocalSTS(seed=SEED)
