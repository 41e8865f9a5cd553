"""Task resolution: built-in names, user data paths, stock MTEB names, raw retrieval data."""

from __future__ import annotations

import pytest

from ternembed.eval import EvalDataError, UnknownTaskError, list_tasks, load_retrieval_data, resolve_task
from ternembed.models import load_sentence_transformer


def test_builtin_tasks_are_listed_with_mteb_main_scores():
    tasks = {task.name: task for task in list_tasks()}
    assert {
        "wordnet-retrieval",
        "wordnet-topics",
        "wordnet-clustering",
        "wordnet-pairs",
        "fashion-mnist",
    } <= set(tasks)
    assert tasks["wordnet-retrieval"].main_score == "ndcg_at_10"
    assert tasks["fashion-mnist"].modality == "image"


def test_load_retrieval_data_for_wordnet_and_beir(tiny_wordnet, beir_dir):
    wordnet = load_retrieval_data("wordnet-retrieval", size="quick")
    assert wordnet.corpus and wordnet.queries
    assert load_retrieval_data(beir_dir).qrels["q1"] == {"d1": 1}
    with pytest.raises(UnknownTaskError, match="use 'wordnet-retrieval' or a BEIR folder"):
        load_retrieval_data("wordnet-topics")


def test_paths_resolve_by_content(tmp_path, beir_dir):
    assert resolve_task(str(beir_dir)).name == "beir"
    (tmp_path / "sts.csv").write_text("sentence1,sentence2,score\na,b,1\n")
    assert resolve_task(str(tmp_path / "sts.csv")).main_score == "cosine_spearman"
    (tmp_path / "odd.csv").write_text("question,answer\na,b\n")
    with pytest.raises(EvalDataError, match=r"odd.csv:1: header .* is neither an STS CSV"):
        resolve_task(str(tmp_path / "odd.csv"))
    with pytest.raises(EvalDataError, match="does not exist"):
        resolve_task(str(tmp_path / "missing.csv"))


def test_unknown_name_lists_known_tasks_and_stock_mteb_fails_clearly_offline(minilm_dir, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(UnknownTaskError, match="wordnet-retrieval, wordnet-topics"):
        resolve_task("no-such-task")
    task = resolve_task("STS12")
    with pytest.raises(EvalDataError, match="needs internet access"):
        task.run(load_sentence_transformer(minilm_dir), 8)
