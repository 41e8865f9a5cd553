"""WordNet and Fashion-MNIST readers: the real file formats, the evaluation split, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from ternembed.data.fashion_mnist import FashionMnistNotFoundError, load_fashion_mnist, read_idx
from ternembed.data.wordnet import (
    WordNetNotFoundError,
    is_evaluation_synset,
    load_synsets,
    parse_data_line,
    split_gloss,
    training_lemma_lists,
    training_texts,
)
from ternembed.eval import wordnet_tasks

from .conftest import write_idx

DOG_LINE = (
    "02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02083346 n 0000 @i 01317541 n 0000 "
    '| a member of the genus Canis; occurs in many breeds; "the dog barked all night"  \n'
)


def test_parse_data_line_reads_every_field():
    synset = parse_data_line(DOG_LINE, "n")
    assert synset.id == "n02084071"
    assert synset.lexname == "noun.animal"
    assert synset.lemmas == ("dog", "domestic dog", "Canis familiaris")
    assert synset.definition == "a member of the genus Canis; occurs in many breeds"
    assert synset.examples == ("the dog barked all night",)
    assert synset.hypernyms == ("n02083346", "n01317541")


def test_adjective_markers_are_stripped_and_glosses_split():
    line = '00021110 00 s 01 complaisant(a) 0 000 | showing willingness; "a complaisant husband"; "so complaisant"  \n'
    synset = parse_data_line(line, "a")
    assert synset.lemmas == ("complaisant",)
    assert synset.pos == "s"
    assert split_gloss('x; y; "one"; "two" - Author') == ("x; y", ("one", "two"))


def test_malformed_line_says_what_it_saw():
    with pytest.raises(ValueError, match="malformed WordNet data line"):
        parse_data_line("02084071 05 n zz | broken", "n")


def test_missing_wordnet_names_the_apt_package(tmp_path):
    with pytest.raises(WordNetNotFoundError, match="apt-get install wordnet-base"):
        load_synsets(tmp_path)


def test_split_is_stable_and_near_thirty_percent():
    ids = [f"n{i:08d}" for i in range(20_000)]
    fraction = sum(map(is_evaluation_synset, ids)) / len(ids)
    assert 0.28 < fraction < 0.32
    assert is_evaluation_synset("n02084071") == is_evaluation_synset("n02084071")


def test_training_texts_never_contain_a_scored_text(tiny_wordnet):
    synsets = load_synsets()
    lemma_lists = training_lemma_lists()
    training = {text.lower() for text in [*training_texts(), *lemma_lists]}
    assert lemma_lists and all(text.lower() in training for text in lemma_lists)
    retrieval = wordnet_tasks.build_retrieval(synsets, size="quick")
    topics = wordnet_tasks.build_topics(synsets, size="quick")
    pairs = wordnet_tasks.build_pairs(synsets, size="quick")
    scored = [
        *retrieval.corpus.values(),
        *retrieval.queries.values(),
        *topics["train"].texts,
        *topics["test"].texts,
        *wordnet_tasks.build_clustering(synsets, size="quick").texts,
        *pairs.first,
        *pairs.second,
    ]
    assert not training & {text.lower() for text in scored}
    assert all(is_evaluation_synset(doc_id) for doc_id in retrieval.corpus)


def test_read_idx_round_trip_and_bad_magic(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), array)
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")


def test_fashion_mnist_split_and_missing_package(tiny_fashion_mnist, tmp_path):
    images, labels = load_fashion_mnist("test")
    assert images.shape == (80, 28, 28) and labels.dtype == np.int64
    with pytest.raises(FashionMnistNotFoundError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist("test", root=tmp_path)
    with pytest.raises(ValueError, match="unknown Fashion-MNIST split"):
        load_fashion_mnist("validation")
