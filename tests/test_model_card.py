"""The saved model card: Hub metadata that huggingface_hub parses, and model-index results that round-trip."""

from __future__ import annotations

import json
import shutil

import pytest
from huggingface_hub import EvalResult, ModelCard

import ternembed
from ternembed.io.model_card import eval_results_from_report, hub_id_of, update_model_card, write_model_card

RUN_CONFIG = {
    "step": 305,
    "arguments": {
        "teacher": "all-MiniLM-L6-v2",
        "epochs": 1,
        "batch_size": 32,
        "lr": 0.0005,
        "max_seq_length": 128,
    },
    "corpus_fingerprint": "d0211d5e97dfa134",
    "corpus": {
        "items": 10000,
        "train_items": 9744,
        "fingerprint": "d0211d5e97dfa134",
        "data": "wordnet training_texts",
    },
}
REPORT = {
    "tasks": [
        {"task": "wordnet-retrieval", "main_score_name": "ndcg_at_10", "main_score": 0.61},
        {"task": "sts-wordnet", "main_score_name": "cosine_spearman", "main_score": 0.7},
    ]
}


@pytest.fixture(scope="module")
def folder(tiny_st_dir, tmp_path_factory):
    config = ternembed.TernaryConfig()
    model = ternembed.ternarize_model(tiny_st_dir, config)
    return ternembed.save(
        model,
        tmp_path_factory.mktemp("card") / "model",
        config,
        base_model="all-MiniLM-L6-v2",
        quality={"cosine": 0.9},
    )


@pytest.fixture
def copy_of(folder, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def test_front_matter_names_the_base_model_its_license_and_the_library(folder):
    card = ModelCard.load(folder / "README.md")
    data = card.data.to_dict()
    assert data["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert data["base_model_relation"] == "quantized"
    assert data["license"] == "apache-2.0" and data["language"] == "en"
    assert data["library_name"] == "ternembed" and data["pipeline_tag"] == "sentence-similarity"
    assert {"ternembed", "sentence-transformers"} <= set(data["tags"])
    for text in ("import ternembed", "SentenceTransformer(", "AutoModel.from_pretrained(", "ternembed serve"):
        assert text in card.text
    assert "## Intended uses and limitations" in card.text and "| cosine | 0.9000 |" in card.text


def test_hub_ids_are_told_only_when_known(folder):
    assert hub_id_of("sentence-transformers/all-mpnet-base-v2") == "sentence-transformers/all-mpnet-base-v2"
    assert hub_id_of("/x/hub/models--BAAI--bge-small-en-v1.5/snapshots/abc") == "BAAI/bge-small-en-v1.5"
    assert hub_id_of(str(folder)) is None
    assert hub_id_of("tiny-bert") is None and hub_id_of(None) is None


def test_a_distilled_card_shows_corpus_fingerprint_and_hyper_parameters(copy_of):
    (copy_of / "distill_config.json").write_text(json.dumps(RUN_CONFIG))
    write_model_card(copy_of)
    text = (copy_of / "README.md").read_text()
    assert "d0211d5e97dfa134" in text and "wordnet training_texts" in text and "9,744 texts" in text
    assert "| lr | 0.0005 |" in text and "| max_seq_length | 128 |" in text


def test_eval_results_round_trip_through_model_index(copy_of):
    update_model_card(copy_of, eval_results_from_report(REPORT))
    card = ModelCard.load(copy_of / "README.md")
    results = {(r.task_name, r.metric_type): (r.task_type, r.metric_value) for r in card.data.eval_results}
    assert results == {
        ("wordnet-retrieval", "ndcg_at_10"): ("Retrieval", 0.61),
        ("sts-wordnet", "cosine_spearman"): ("STS", 0.7),
    }
    assert "model-index" in (copy_of / "README.md").read_text()
    assert "| wordnet-retrieval | ndcg_at_10 | 0.61 |" in card.text
    newer = EvalResult(
        task_type="Retrieval",
        task_name="wordnet-retrieval",
        dataset_type="wordnet-retrieval",
        dataset_name="wordnet-retrieval",
        metric_type="ndcg_at_10",
        metric_value=0.65,
    )
    update_model_card(copy_of, [newer])
    card = ModelCard.load(copy_of / "README.md")
    values = sorted(r.metric_value for r in card.data.eval_results)
    assert values == [0.65, 0.7]
    assert card.text.count("## Evaluation") == 1 and "## Usage" in card.text
    assert card.data.to_dict()["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
