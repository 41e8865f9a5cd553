"""`ternembed push` up to the Hub call (HfApi patched), its refusals, and `eval --update-card`."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi, ModelCard

import ternembed
from ternembed.cli.main import main


@pytest.fixture(scope="module")
def folder(tiny_st_dir, tmp_path_factory):
    config = ternembed.TernaryConfig()
    model = ternembed.ternarize_model(tiny_st_dir, config)
    out = ternembed.save(
        model, tmp_path_factory.mktemp("push") / "model", config, base_model="all-MiniLM-L6-v2"
    )
    (out / "training").mkdir()
    (out / "training" / "latent_student.safetensors").write_bytes(b"latent")
    return out


@pytest.fixture
def calls(monkeypatch):
    seen = []

    def create_repo(self, repo_id, **kwargs):
        seen.append(("create_repo", repo_id, kwargs, self.token))

    def upload_folder(self, **kwargs):
        seen.append(("upload_folder", kwargs["repo_id"], kwargs, self.token))
        return "https://huggingface.co/me/model/commit/abc"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    return seen


def test_push_creates_the_repo_and_uploads_the_folder(folder, calls, monkeypatch, capsys):
    monkeypatch.setenv("MY_HF_TOKEN", "hf_secret")
    assert main(["push", str(folder), "me/model", "--private", "--token-env", "MY_HF_TOKEN"]) == 0
    (create, repo, create_kwargs, token), (upload, upload_repo, upload_kwargs, _) = calls
    assert (create, repo, upload, upload_repo, token) == (
        "create_repo",
        "me/model",
        "upload_folder",
        "me/model",
        "hf_secret",
    )
    assert create_kwargs["private"] is True and create_kwargs["exist_ok"] is True
    assert upload_kwargs["folder_path"] == str(folder) and "training/*" in upload_kwargs["ignore_patterns"]
    assert "me/model" in capsys.readouterr().out


def test_push_refuses_a_folder_that_is_not_a_ternembed_model(tiny_st_dir, calls, capsys):
    assert main(["push", tiny_st_dir, "me/model"]) == 2
    assert "no ternary_config.json" in capsys.readouterr().err and not calls


def test_push_refuses_a_bad_repo_id_and_an_unset_token_variable(folder, calls, monkeypatch, capsys):
    assert main(["push", str(folder), "no-owner"]) == 2
    monkeypatch.delenv("UNSET_TOKEN_VAR", raising=False)
    assert main(["push", str(folder), "me/model", "--token-env", "UNSET_TOKEN_VAR"]) == 2
    assert "UNSET_TOKEN_VAR" in capsys.readouterr().err and not calls


def test_eval_update_card_writes_model_index(folder, tmp_path, capsys):
    sts = tmp_path / "sts.csv"
    rows = [
        ("a dog runs", "a dog is running", 4.5),
        ("a cat sleeps", "stocks fell", 0.2),
        ("red car", "a red car", 4.8),
    ]
    sts.write_text("sentence1,sentence2,score\n" + "".join(f"{a},{b},{s}\n" for a, b, s in rows * 4))
    assert main(["eval", str(folder), "--tasks", str(sts), "--update-card", "--json"]) == 0
    results = ModelCard.load(folder / "README.md").data.eval_results
    assert results and results[0].task_type == "STS" and isinstance(results[0].metric_value, float)


def test_eval_update_card_refuses_a_plain_model(tiny_st_dir, capsys):
    assert main(["eval", tiny_st_dir, "--update-card"]) == 2
    assert "--update-card" in capsys.readouterr().err
