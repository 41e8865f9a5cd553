"""WordNet task builders: deterministic, answers in the corpus, honest pairs."""

from __future__ import annotations

import pytest

from ternembed.data.wordnet import Synset, load_synsets
from ternembed.eval.wordnet_tasks import (
    MASK,
    build_clustering,
    build_pairs,
    build_retrieval,
    build_similarity,
    build_topics,
    mask_lemmas,
    wu_palmer,
)


def test_mask_lemmas_hides_inflected_words():
    assert mask_lemmas("Prices sedated them", ["sedate"]) == f"Prices {MASK} them"
    assert mask_lemmas("the dog barked", ["cat"]) is None


def test_retrieval_is_deterministic_and_every_answer_is_in_the_corpus(tiny_wordnet):
    synsets = load_synsets()
    first, second = build_retrieval(synsets, size="quick"), build_retrieval(synsets, size="quick")
    assert first == second
    assert first.queries and set(first.queries) == set(first.qrels)
    assert all(doc in first.corpus for judged in first.qrels.values() for doc in judged)
    assert any(q.startswith("example-") for q in first.queries) and any(
        q.startswith("lemmas-") for q in first.queries
    )
    assert all(MASK in text for q, text in first.queries.items() if q.startswith("example-"))


def test_topics_splits_are_disjoint_and_labels_are_lexnames(tiny_wordnet):
    topics = build_topics(load_synsets(), size="quick")
    assert not set(topics["train"].texts) & set(topics["test"].texts)
    assert set(topics["test"].labels) == set(topics["train"].labels)
    assert all("." in label for label in topics["test"].labels)


def test_clustering_and_pairs_are_balanced(tiny_wordnet):
    synsets = load_synsets()
    clustering = build_clustering(synsets, size="quick")
    assert len(set(clustering.labels)) > 5
    pairs = build_pairs(synsets, size="quick")
    assert pairs.labels.count(1.0) == pairs.labels.count(0.0) > 10
    positives = [(a, b) for a, b, y in zip(pairs.first, pairs.second, pairs.labels, strict=True) if y == 1.0]
    assert all(not set(a.lower().split()) & set(b.lower().split()) for a, b in positives)
    assert build_pairs(synsets, size="quick") == pairs


def test_full_retrieval_on_the_installed_database_has_the_promised_size():
    data = build_retrieval(load_synsets(), size="full")
    assert len(data.corpus) == 20_000 and len(data.queries) == 2_000


def test_wu_palmer_on_a_small_hierarchy():
    def noun(synset_id, *hypernyms):
        return Synset(synset_id, "n", "noun.Tops", (synset_id,), "gloss", (), hypernyms)

    by_id = {
        s.id: s for s in (noun("root"), noun("a", "root"), noun("b", "a"), noun("c", "a"), noun("d", "root"))
    }
    assert wu_palmer("b", "b", by_id) == 1.0
    assert wu_palmer("b", "c", by_id) == pytest.approx(2 * 2 / (1 + 1 + 2 * 2))
    assert wu_palmer("b", "d", by_id) == pytest.approx(2 * 1 / (2 + 1 + 2 * 1))


def test_similarity_pairs_are_graded_and_deterministic(tiny_wordnet):
    synsets = load_synsets()
    pairs = build_similarity(synsets, size="quick")
    assert len(pairs.labels) > 20 and len(set(pairs.labels)) > 5
    assert all(0.0 <= grade <= 1.0 for grade in pairs.labels)
    assert build_similarity(synsets, size="quick") == pairs
