"""Upload a packed ternembed folder to the Hugging Face Hub (the only ternembed code that uses the network)."""

from __future__ import annotations

import os
from pathlib import Path

from ternembed.io.model_card import MODEL_CARD_FILENAME
from ternembed.io.validate import check_folder, check_sentence_transformer_folder, read_manifest

LEFT_BEHIND = ["training/*", "*.partial/*", ".*"]
"""Never uploaded: the latent training weights (``--keep-latent``), staging folders, hidden files."""


def push_to_hub(
    folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None
) -> str:
    """Create ``repo_id`` (if needed) and upload the packed model in ``folder``; returns the commit URL.

    The folder is checked first (manifest, sentence-transformers files, model card), so nothing that is
    not a ternembed model is uploaded.
    """
    from huggingface_hub import HfApi

    root = check_folder(folder)
    check_sentence_transformer_folder(root)
    read_manifest(root)
    if not (Path(root) / MODEL_CARD_FILENAME).is_file():
        raise FileNotFoundError(f"{root} has no {MODEL_CARD_FILENAME}; re-save the model with ternembed.save")
    api = HfApi(token=token)
    api.create_repo(repo_id, private=private, repo_type="model", exist_ok=True)
    commit = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(root),
        repo_type="model",
        commit_message="Upload ternembed model",
        ignore_patterns=LEFT_BEHIND,
    )
    return str(getattr(commit, "commit_url", commit))
