"""`ternembed eval` end to end on tiny models and tiny real-format data: every task type, errors."""

from __future__ import annotations

import json

import pytest

from ternembed.cli.main import main
from ternembed.eval import ModalityError
from ternembed.eval.models import load_model
from ternembed.eval.report import summary
from ternembed.eval.runner import evaluate


def _without_timings(data: dict) -> dict:
    data = json.loads(json.dumps(data))
    for entry in (data["model"], *data["tasks"]):
        entry.pop("texts_per_second", None)
        entry.pop("evaluation_time_s", None)
    return data


@pytest.fixture
def user_csvs(tmp_path):
    sts = tmp_path / "sts.csv"
    rows = [
        ("a dog runs", "a dog is running", 5),
        ("a man cooks", "someone makes food", 4),
        ("a cat", "the stock market", 0),
    ]
    rows += [("the sun rises", "dawn comes", 4), ("rain falls", "a car parks", 1)]
    sts.write_text("sentence1,sentence2,score\n" + "".join(f"{a},{b},{s}\n" for a, b, s in rows))
    classes = tmp_path / "topics.csv"
    texts = [
        (f"the {w} barked" if i % 2 else f"stocks of {w} rose", "dog" if i % 2 else "money")
        for i, w in enumerate("abcdefghijklmnop")
    ]
    classes.write_text("text,label\n" + "".join(f"{t},{label}\n" for t, label in texts))
    return sts, classes


def test_every_text_task_type_runs_through_the_cli(
    tiny_st_dir, tiny_wordnet, beir_dir, user_csvs, tmp_path, capsys
):
    tasks = [
        "wordnet-retrieval",
        "wordnet-topics",
        "wordnet-clustering",
        "wordnet-pairs",
        "wordnet-similarity",
    ]
    tasks.append(str(beir_dir))
    out = tmp_path / "report"
    argv = ["eval", tiny_st_dir, "--tasks", ",".join([*tasks, *map(str, user_csvs)]), "--quick", "--json"]
    assert main([*argv, "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    metrics = {task["task"]: task["metrics"] for task in data["tasks"]}
    assert set(metrics["wordnet-retrieval"]) == {"ndcg_at_10", "recall_at_10", "mrr_at_10"}
    assert "accuracy" in metrics["wordnet-topics"] and "accuracy" in metrics["topics"]
    assert "v_measure" in metrics["wordnet-clustering"]
    assert "max_ap" in metrics["wordnet-pairs"] and "cosine_spearman" in metrics["wordnet-similarity"]
    assert "cosine_spearman" in metrics["sts"] and "ndcg_at_10" in metrics["beir"]
    assert all(0.0 <= task["main_score"] <= 1.0 for task in data["tasks"] if task["task"] != "sts")
    assert data["model"]["weight_bytes"] > 0
    for name in ("report.json", "report.md", "report.png", "results/model-st/wordnet-retrieval.json"):
        assert (out / name).is_file()
    mteb_result = json.loads((out / "results/model-st/wordnet-retrieval.json").read_text())
    assert mteb_result["scores"]["test"][0]["main_score"] == pytest.approx(
        metrics["wordnet-retrieval"]["ndcg_at_10"], abs=1e-4
    )


def test_sampled_tasks_give_the_same_numbers_every_run(tiny_st_dir, tiny_wordnet):
    model = load_model(tiny_st_dir)
    tasks = ["wordnet-retrieval", "wordnet-topics", "wordnet-clustering"]
    first, second = (
        _without_timings(summary(evaluate(model, tiny_st_dir, tasks, size="quick"))) for _ in range(2)
    )
    assert first == second


def test_baseline_gives_kept_percent_and_fidelity(tiny_st_dir, tiny_wordnet, capsys):
    assert main(["eval", tiny_st_dir, "--baseline", tiny_st_dir, "--tasks", "wordnet-pairs", "--quick"]) == 0
    printed = capsys.readouterr().out
    assert "kept %" in printed and "100.0" in printed
    assert "fidelity cosine_mean: 1.0" in printed and "fidelity neighbour_overlap_at_10: 1.0" in printed


def test_fashion_mnist_scores_an_image_encoder(pixel_encoder, tiny_fashion_mnist):
    report = evaluate(pixel_encoder, "", ["fashion-mnist"], size="quick")
    task = summary(report)["tasks"][0]
    assert set(task["metrics"]) == {"accuracy", "knn_accuracy", "f1"}
    assert task["main_score"] > 0.5


def test_modality_mismatch_is_refused_before_running(pixel_encoder, tiny_st_dir, tiny_fashion_mnist):
    with pytest.raises(ModalityError, match="'fashion-mnist' needs a model that encodes image"):
        evaluate(load_model(tiny_st_dir), tiny_st_dir, ["fashion-mnist"], size="quick")
    with pytest.raises(ModalityError, match="'wordnet-pairs' needs a model that encodes text"):
        evaluate(pixel_encoder, "", ["wordnet-pairs"], size="quick")


def test_cli_errors_are_one_line(tiny_st_dir, capsys):
    assert main(["eval", tiny_st_dir, "--tasks", "fashion-mnist", "--quick"]) == 2
    assert "needs a model that encodes image" in capsys.readouterr().err
    assert main(["eval", "--list"]) == 0
    assert "wordnet-retrieval" in capsys.readouterr().out


def test_a_model_with_constant_embeddings_is_a_clear_error(tiny_st_dir, tiny_wordnet):
    import torch

    from ternembed.eval.runner import UnscorableModelError

    model = load_model(tiny_st_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()  # every text now embeds to the same vector
    with pytest.raises(UnscorableModelError, match="constant or not finite"):
        evaluate(model, tiny_st_dir, ["wordnet-similarity"], size="quick")
