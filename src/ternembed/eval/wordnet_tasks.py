"""Evaluation data built from WordNet evaluation synsets: retrieval, topics, clustering, pairs.

Every text here comes from a synset for which :func:`ternembed.data.wordnet.is_evaluation_synset`
is true, so nothing scored here is ever in the distillation corpus. All choices are driven by a
seeded :class:`random.Random` over lists in file order: the same database gives the same data.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ternembed.data.wordnet import Synset, is_evaluation_synset, lemma_list

Size = Literal["full", "quick"]
MASK = "___"


@dataclass(frozen=True)
class WordNetSizes:
    """How much data each WordNet task draws (``full`` for reports, ``quick`` for smoke runs)."""

    retrieval_corpus: int
    lemma_queries: int
    example_queries: int
    topic_train_per_label: int
    topic_test_per_label: int
    clustering_per_label: int
    pairs_per_class: int


SIZES: dict[str, WordNetSizes] = {
    "full": WordNetSizes(20_000, 1_000, 1_000, 64, 64, 64, 1_000),
    "quick": WordNetSizes(2_000, 100, 100, 16, 16, 16, 150),
}


@dataclass(frozen=True)
class RetrievalData:
    """A retrieval set in BEIR's shape: id -> text for corpus and queries, qid -> {doc id: grade}."""

    corpus: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with one label each."""

    texts: list[str]
    labels: list[str]


@dataclass(frozen=True)
class TextPairs:
    """Text pairs with a label or a score each."""

    first: list[str]
    second: list[str]
    labels: list[float]


class _Index:
    """Lookups over the whole database that the builders share."""

    def __init__(self, synsets: Sequence[Synset]) -> None:
        self.by_id = {s.id: s for s in synsets}
        self.evaluation = [s for s in synsets if is_evaluation_synset(s.id) and s.definition]
        definition_count: dict[str, int] = defaultdict(int)
        for synset in synsets:
            definition_count[synset.definition.lower()] += 1
        self.unique_definition = [s for s in self.evaluation if definition_count[s.definition.lower()] == 1]
        self.synsets_of_lemma: dict[str, set[str]] = defaultdict(set)
        self.hyponyms: dict[str, list[str]] = defaultdict(list)
        for synset in synsets:
            for lemma in synset.lemmas:
                self.synsets_of_lemma[lemma.lower()].add(synset.id)
            for hypernym in synset.hypernyms:
                self.hyponyms[hypernym].append(synset.id)

    def relatives(self, synset: Synset) -> list[str]:
        """Hypernyms, hyponyms, siblings and other senses of the same words, in a fixed order."""
        related = [*synset.hypernyms, *self.hyponyms[synset.id]]
        for hypernym in synset.hypernyms:
            related += self.hyponyms[hypernym]
        for lemma in synset.lemmas:
            related += sorted(self.synsets_of_lemma[lemma.lower()])
        return [r for r in dict.fromkeys(related) if r != synset.id]

    def names_only_this(self, synset: Synset) -> bool:
        """Whether no other synset holds all of this synset's lemmas (the lemmas name it unambiguously)."""
        holders = set.intersection(*(self.synsets_of_lemma[lemma.lower()] for lemma in synset.lemmas))
        return holders == {synset.id}

    def are_synonyms_anywhere(self, first: str, second: str) -> bool:
        """Whether some synset holds both words (in any sense)."""
        return bool(self.synsets_of_lemma[first.lower()] & self.synsets_of_lemma[second.lower()])


def mask_lemmas(sentence: str, lemmas: Iterable[str]) -> str | None:
    """The sentence with every inflected occurrence of the lemmas replaced by ``___``; None if none occurs."""
    masked = sentence
    for lemma in sorted(lemmas, key=len, reverse=True):
        stem = lemma[:-1] if len(lemma) > 3 and lemma.endswith("e") else lemma
        masked = re.sub(rf"\b{re.escape(stem)}\w*", MASK, masked, flags=re.IGNORECASE)
    return masked if masked != sentence else None


def build_retrieval(synsets: Sequence[Synset], size: Size = "full", seed: int = 0) -> RetrievalData:
    """Queries name a synset (its lemmas) or use it (an example with the word masked); documents are glosses.

    The corpus holds every query's answer, then its near neighbours (hypernyms, hyponyms, siblings,
    other senses of the same words) that are evaluation synsets, then other evaluation synsets up to
    the corpus size. Only synsets with a gloss found nowhere else in WordNet are used.
    """
    sizes, index, rng = SIZES[size], _Index(synsets), random.Random(seed)
    candidates = index.unique_definition
    usable = {s.id for s in candidates}
    named = [s for s in candidates if index.names_only_this(s)]
    lemma_sources = rng.sample(named, min(sizes.lemma_queries, len(named)))
    masked_examples = []
    for synset in candidates:
        masked = [m for m in (mask_lemmas(e, synset.lemmas) for e in synset.examples) if m]
        if masked:
            masked_examples.append((synset, masked))
    example_sources = rng.sample(masked_examples, min(sizes.example_queries, len(masked_examples)))

    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for synset in lemma_sources:
        queries[f"lemmas-{synset.id}"] = lemma_list(synset)
        qrels[f"lemmas-{synset.id}"] = {synset.id: 1}
    for synset, masked in example_sources:
        queries[f"example-{synset.id}"] = rng.choice(masked)
        qrels[f"example-{synset.id}"] = {synset.id: 1}

    answers = list(dict.fromkeys([s.id for s in lemma_sources] + [s.id for s, _ in example_sources]))
    neighbours = [
        r
        for s in [*lemma_sources, *(s for s, _ in example_sources)]
        for r in index.relatives(s)
        if r in usable
    ]
    neighbours = [n for n in dict.fromkeys(neighbours) if n not in set(answers)]
    room = max(sizes.retrieval_corpus - len(answers), 0)
    if len(neighbours) > room // 2:
        neighbours = rng.sample(neighbours, room // 2)
    chosen = set(answers) | set(neighbours)
    fillers = [s.id for s in candidates if s.id not in chosen]
    fillers = rng.sample(fillers, min(room - len(neighbours), len(fillers)))
    corpus_ids = sorted(chosen | set(fillers))
    corpus = {doc_id: index.by_id[doc_id].definition for doc_id in corpus_ids}
    return RetrievalData(corpus=corpus, queries=queries, qrels=qrels)


def _per_label(synsets: Sequence[Synset], rng: random.Random, limit: int) -> dict[str, list[Synset]]:
    by_label: dict[str, list[Synset]] = defaultdict(list)
    for synset in synsets:
        by_label[synset.lexname].append(synset)
    return {
        label: rng.sample(members, min(limit, len(members))) for label, members in sorted(by_label.items())
    }


def build_topics(synsets: Sequence[Synset], size: Size = "full", seed: int = 0) -> dict[str, LabelledTexts]:
    """Gloss -> lexicographer file (e.g. ``noun.animal``), as disjoint ``train`` and ``test`` splits.

    Each topic gives up to the size's per-label counts; a small topic is split half and half, and a
    topic with fewer than 4 evaluation synsets is left out.
    """
    sizes, index, rng = SIZES[size], _Index(synsets), random.Random(seed + 1)
    drawn = _per_label(index.unique_definition, rng, sizes.topic_train_per_label + sizes.topic_test_per_label)
    splits = {"train": LabelledTexts([], []), "test": LabelledTexts([], [])}
    for label, members in drawn.items():
        if len(members) < 4:
            continue
        n_test = min(sizes.topic_test_per_label, len(members) // 2)
        for split, part in (("test", members[:n_test]), ("train", members[n_test:])):
            splits[split].texts.extend(s.definition for s in part)
            splits[split].labels.extend([label] * len(part))
    return splits


def build_clustering(synsets: Sequence[Synset], size: Size = "full", seed: int = 0) -> LabelledTexts:
    """Glosses labelled by lexicographer file, up to the size's count per topic (topics under 4 left out)."""
    sizes, index, rng = SIZES[size], _Index(synsets), random.Random(seed + 2)
    data = LabelledTexts([], [])
    for label, members in _per_label(index.unique_definition, rng, sizes.clustering_per_label).items():
        if len(members) >= 4:
            data.texts.extend(s.definition for s in members)
            data.labels.extend([label] * len(members))
    return data


def build_pairs(synsets: Sequence[Synset], size: Size = "full", seed: int = 0) -> TextPairs:
    """Synonymous phrase pairs (two lemmas of one synset, label 1) and unrelated ones (label 0).

    Synonyms sharing a word (``genus Agastache`` / ``Agastache``) are skipped. An unrelated pair joins a lemma of one synset with a lemma of another synset of the same topic
    that is not a relative of it and shares no synset with it in any sense, so topic alone does not
    separate the classes. Positives and negatives are balanced and interleaved.
    """
    sizes, index, rng = SIZES[size], _Index(synsets), random.Random(seed + 3)
    with_synonyms = [
        s
        for s in index.evaluation
        if len({lemma.lower() for lemma in s.lemmas}) >= 2 and index.names_only_this(s)
    ]
    by_topic: dict[str, list[Synset]] = defaultdict(list)
    for synset in index.evaluation:
        by_topic[synset.lexname].append(synset)
    pairs = TextPairs([], [], [])
    for synset in rng.sample(with_synonyms, len(with_synonyms)):
        if len(pairs.labels) >= 2 * sizes.pairs_per_class:
            break
        distinct = [
            (a, b)
            for a, b in itertools.combinations(
                sorted({lemma.lower(): lemma for lemma in synset.lemmas}.values()), 2
            )
            if not set(a.lower().split()) & set(b.lower().split())
        ]
        if not distinct:
            continue
        first, second = rng.choice(distinct)
        relatives = set(index.relatives(synset))
        for _ in range(20):
            other = rng.choice(by_topic[synset.lexname])
            unrelated = rng.choice(other.lemmas)
            if (
                other.id != synset.id
                and other.id not in relatives
                and not index.are_synonyms_anywhere(first, unrelated)
            ):
                break
        else:
            continue
        pairs.first.extend([first, first])
        pairs.second.extend([second, unrelated])
        pairs.labels.extend([1.0, 0.0])
    return pairs


def _hypernym_distances(synset_id: str, by_id: dict[str, Synset]) -> dict[str, int]:
    """Every ancestor of a synset (itself included) with its fewest hypernym steps away."""
    distances, frontier = {synset_id: 0}, [synset_id]
    while frontier:
        following = []
        for current in frontier:
            for parent in by_id[current].hypernyms if current in by_id else ():
                if parent not in distances:
                    distances[parent] = distances[current] + 1
                    following.append(parent)
        frontier = following
    return distances


def wu_palmer(first: str, second: str, by_id: dict[str, Synset]) -> float:
    """Wu-Palmer similarity ``2 d(lcs) / (d1 + d2 + 2 d(lcs))`` in the hypernym graph; 0 without a common ancestor.

    ``d(lcs)`` is the depth of the deepest common ancestor (1 for a root), ``d1``/``d2`` the steps
    from each synset up to it.
    """
    up_first, up_second = _hypernym_distances(first, by_id), _hypernym_distances(second, by_id)
    common = set(up_first) & set(up_second)
    if not common:
        return 0.0

    def depth(synset_id: str) -> int:
        return 1 + max(_hypernym_distances(synset_id, by_id).values())

    best = max(common, key=lambda c: (depth(c), -(up_first[c] + up_second[c]), c))
    lcs_depth = depth(best)
    return 2 * lcs_depth / (up_first[best] + up_second[best] + 2 * lcs_depth)


def build_similarity(synsets: Sequence[Synset], size: Size = "full", seed: int = 0) -> TextPairs:
    """Gloss pairs of evaluation nouns graded by the Wu-Palmer similarity of their synsets (0 to 1).

    The grade is WordNet's taxonomy distance, not a human judgement. Each anchor is paired with a
    sibling and a cousin (shared grandparent) where it has them (at least one), a noun of the same
    topic and any noun, so grades span the range.
    """
    sizes, index, rng = SIZES[size], _Index(synsets), random.Random(seed + 4)
    nouns = [s for s in index.unique_definition if s.pos == "n"]
    noun_ids = {s.id for s in nouns}
    by_topic: dict[str, list[Synset]] = defaultdict(list)
    for synset in nouns:
        by_topic[synset.lexname].append(synset)
    pairs = TextPairs([], [], [])
    for anchor in rng.sample(nouns, len(nouns)):
        if len(pairs.labels) >= 2 * sizes.pairs_per_class:
            break
        parents = anchor.hypernyms
        siblings = sorted({c for p in parents for c in index.hyponyms[p]} & noun_ids - {anchor.id})
        grandparents = [g for p in parents if p in index.by_id for g in index.by_id[p].hypernyms]
        cousins = sorted(
            {c for g in grandparents for p in index.hyponyms[g] for c in index.hyponyms[p]} & noun_ids
        )
        cousins = [c for c in cousins if c not in siblings and c != anchor.id]
        if not siblings and not cousins:
            continue
        close = [rng.choice(group) for group in (siblings, cousins) if group]
        partners = [*close, rng.choice(by_topic[anchor.lexname]).id, rng.choice(nouns).id]
        for partner in dict.fromkeys(p for p in partners if p != anchor.id):
            pairs.first.append(anchor.definition)
            pairs.second.append(index.by_id[partner].definition)
            pairs.labels.append(round(wu_palmer(anchor.id, partner, index.by_id), 4))
    return pairs
