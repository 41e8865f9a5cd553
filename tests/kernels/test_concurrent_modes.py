"""Switching activation modes while other threads encode never breaks or mixes up the kernel states."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import ternembed
from ternembed import TernaryConfig
from ternembed.kernels import native_library

TEXTS = [f"sentence number {i} about cats, dogs and the weather" for i in range(8)]


@pytest.fixture(scope="module")
def model(tiny_st_dir, tmp_path_factory):
    if native_library() is None:
        pytest.fail("the C kernel library is not built; pip install -e . builds it")
    config = TernaryConfig(storage="2bit", embeddings="int8")
    folder = ternembed.save(ternembed.ternarize_model(tiny_st_dir, config), tmp_path_factory.mktemp("m") / "m", config)
    return ternembed.load(folder)


def _serial(model, mode):
    ternembed.set_activations(model, mode)
    return model.encode(TEXTS, batch_size=4)


def test_mode_switches_during_concurrent_encodes_keep_every_result_right(model):
    expected = {mode: _serial(model, mode) for mode in ("float", "int8")}
    assert not np.allclose(expected["float"], expected["int8"], atol=1e-6)  # the modes really differ
    errors, results, stop = [], [], threading.Event()

    def encode():
        while not stop.is_set():
            try:
                results.append(model.encode(TEXTS, batch_size=4))
            except Exception as error:  # noqa: BLE001 - any failure is the defect under test
                errors.append(error)
                return

    workers = [threading.Thread(target=encode) for _ in range(3)]
    for worker in workers:
        worker.start()
    for step in range(400):
        ternembed.set_activations(model, ("float", "int8")[step % 2])
    stop.set()
    for worker in workers:
        worker.join()
    assert not errors, errors[0]
    assert results
    for rows in results:  # a batch mid-switch may mix modes across its layers, never garbage
        assert np.isfinite(rows).all()
    for mode in ("float", "int8"):  # after the race each mode is exactly what serial encoding gives
        np.testing.assert_allclose(_serial(model, mode), expected[mode], atol=1e-5)
