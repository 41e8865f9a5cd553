"""Out-of-domain evaluation data from technical documentation (:mod:`ternembed.data.manuals`).

Neither source is a dictionary nor in any default training corpus, and only held-out documents
(:func:`ternembed.data.manuals.is_held_out`) are used, so a corpus built by
:mod:`ternembed.data.general_corpus` never contains what is scored here.

- ``manpages-retrieval``: query = a manual page's one-line NAME summary, document = its DESCRIPTION.
- ``kernel-docs-retrieval``: query = a kernel documentation section's heading, document = its text.
- ``kernel-docs-topics``: section text -> its top-level documentation folder (networking, filesystems...).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ternembed.data.manuals import ManualDocument, is_held_out, kernel_sections, manual_pages
from ternembed.eval.wordnet_tasks import LabelledTexts, RetrievalData, Size

BODY_WORDS = 256
"""Documents are cut to their first words (the models read at most a few hundred tokens anyway)."""
EXCLUDED_KERNEL_GROUPS = frozenset({"translations"})


@dataclass(frozen=True)
class ManualSizes:
    """How much each task draws (``full`` for reports, ``quick`` for smoke runs)."""

    retrieval_queries: int
    retrieval_corpus: int
    topics: int
    topic_train_per_label: int
    topic_test_per_label: int


SIZES = {"full": ManualSizes(1_500, 4_000, 10, 48, 48), "quick": ManualSizes(100, 400, 5, 8, 8)}


def build_manpage_retrieval(size: Size = "full", seed: int = 0) -> RetrievalData:
    """Held-out manual pages: NAME summary -> DESCRIPTION (copies of one page counted once)."""
    return _retrieval(_unique_bodies(p for p in manual_pages() if is_held_out(p.key)), size, seed)


def build_kernel_retrieval(size: Size = "full", seed: int = 0) -> RetrievalData:
    """Held-out kernel documentation sections with a heading of 3+ words that no other section shares."""
    return _retrieval(_kernel_documents(), size, seed)


def build_kernel_topics(size: Size = "full", seed: int = 0) -> dict[str, LabelledTexts]:
    """Section text -> top-level folder, over the most frequent folders, as disjoint train and test splits."""
    sizes, rng = SIZES[size], random.Random(seed + 1)
    by_group: dict[str, list[ManualDocument]] = defaultdict(list)
    for document in _kernel_documents():
        by_group[document.group].append(document)
    largest = sorted(by_group, key=lambda group: (-len(by_group[group]), group))[: sizes.topics]
    splits = {"train": LabelledTexts([], []), "test": LabelledTexts([], [])}
    for group in sorted(largest):
        members = rng.sample(by_group[group], len(by_group[group]))
        n_test = min(sizes.topic_test_per_label, len(members) // 2)
        n_train = min(sizes.topic_train_per_label, len(members) - n_test)
        for split, part in (("test", members[:n_test]), ("train", members[n_test : n_test + n_train])):
            splits[split].texts.extend(_cut(d.body) for d in part)
            splits[split].labels.extend([group] * len(part))
    return splits


def _kernel_documents() -> list[ManualDocument]:
    candidates = [
        s for s in kernel_sections()
        if is_held_out(s.key) and s.group not in EXCLUDED_KERNEL_GROUPS
        and len(s.title.split()) >= 3 and len(s.body.split()) >= 30
    ]  # fmt: skip
    title_count: dict[str, int] = defaultdict(int)
    for section in candidates:
        title_count[section.title.lower()] += 1
    return _unique_bodies(s for s in candidates if title_count[s.title.lower()] == 1)


def _unique_bodies(documents) -> list[ManualDocument]:
    seen, unique = set(), []
    for document in documents:
        if document.body not in seen:
            seen.add(document.body)
            unique.append(document)
    return unique


def _retrieval(documents: Sequence[ManualDocument], size: Size, seed: int) -> RetrievalData:
    """Seeded queries from ``documents``, each relevant to its own document; the rest fill the corpus."""
    sizes, rng = SIZES[size], random.Random(seed)
    order = rng.sample(list(documents), len(documents))
    corpus_documents = order[: sizes.retrieval_corpus]
    query_documents = corpus_documents[: sizes.retrieval_queries]
    corpus = {f"d{i}": _cut(d.body) for i, d in enumerate(corpus_documents)}
    queries = {f"q{i}": d.title for i, d in enumerate(query_documents)}
    qrels = {f"q{i}": {f"d{i}": 1} for i in range(len(query_documents))}
    return RetrievalData(corpus, queries, qrels)


def _cut(text: str) -> str:
    return " ".join(text.split()[:BODY_WORDS])
