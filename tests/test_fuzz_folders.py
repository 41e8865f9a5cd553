"""Fuzzing damaged model folders: load refuses with a ternembed error or the model embeds finitely.

Hypothesis picks a file of a saved ternary folder and a way to damage it (truncate, overwrite bytes,
fill with random bytes, empty, delete, swap a JSON file for another JSON value). Whatever it does,
``ternembed.load`` must either raise a :class:`ternembed.TernembedError` (a one-line message at the
CLI) or return a model whose embeddings are finite: never a traceback from deep inside a library,
never NaN.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ternembed
from ternembed import TernaryConfig, TernembedError

DAMAGES = ("truncate", "overwrite", "random", "empty", "delete", "json-value")
JSON_VALUES = ([], {}, None, 7, "text", {"architectures": 3}, [{"idx": "x"}])


@pytest.fixture(scope="module")
def saved(tiny_st_dir, tmp_path_factory) -> Path:
    config = TernaryConfig(storage="2bit", embeddings="int8")
    model = ternembed.ternarize_model(tiny_st_dir, config)
    return Path(ternembed.save(model, tmp_path_factory.mktemp("fuzz") / "model", config))


def _files(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


def _damage(path: Path, damage: str, position: float, seed: int) -> None:
    data = path.read_bytes()
    rng = np.random.default_rng(seed)
    at = int(position * len(data))
    if damage == "truncate":
        path.write_bytes(data[:at])
    elif damage == "overwrite":
        count = max(1, min(16, len(data) - at))
        path.write_bytes(data[:at] + rng.integers(0, 256, count, dtype=np.uint8).tobytes() + data[at + count :])
    elif damage == "random":
        path.write_bytes(rng.integers(0, 256, max(len(data), 1), dtype=np.uint8).tobytes())
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "delete":
        path.unlink()
    else:
        path.write_text(json.dumps(JSON_VALUES[seed % len(JSON_VALUES)]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    file_choice=st.integers(min_value=0, max_value=10_000),
    damage=st.sampled_from(DAMAGES),
    position=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_a_damaged_folder_is_refused_or_embeds_finitely(saved, file_choice, damage, position, seed):
    names = _files(saved)
    name = names[file_choice % len(names)]
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "model"
        shutil.copytree(saved, folder)
        if damage == "json-value" and not name.endswith(".json"):
            damage = "overwrite"
        _damage(folder / name, damage, position, seed)
        try:
            model = ternembed.load(folder)
        except TernembedError:
            return
        vectors = model.encode(["a cat sat on the mat", "stocks fell sharply"])
        assert np.isfinite(vectors).all(), f"{damage} of {name} at {position:.3f} embeds non-finite values"
