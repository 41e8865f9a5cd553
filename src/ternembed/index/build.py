"""Building an index from a corpus (JSON lines, CSV, Parquet, datasets): stream, encode and add in chunks, then save atomically."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ternembed.index.backends import BackendName
from ternembed.index.corpus import Document, count_documents, read_corpus
from ternembed.index.model_ref import encode_texts, load_model
from ternembed.index.precision import Precision
from ternembed.index.rescore_store import RescoreFrom
from ternembed.index.search_index import SearchIndex
from ternembed.io.output_folder import check_output_folder
from ternembed.matryoshka import set_truncate_dim

DEFAULT_CHUNK_SIZE = 2048
"""Documents read, encoded and added at a time: memory use is bounded by this, not by the corpus."""


def build_index(
    model,
    corpus: str | os.PathLike,
    out: str | os.PathLike,
    *,
    backend: BackendName = "faiss-hnsw",
    precision: Precision = "float32",
    rescore: int | None = None,
    rescore_from: RescoreFrom = "codes",
    batch_size: int = 32,
    id_field: str = "id",
    text_field: str = "text",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    model_name: str | None = None,
    show_progress: bool = True,
    truncate_dim: int | None = None,
    **params: Any,
) -> SearchIndex:
    """Index every document of ``corpus`` with ``model`` and save the index folder ``out``.

    Args:
        model: a model name or folder (recorded in the index), or a loaded SentenceTransformer.
        corpus: a ``.jsonl``, ``.csv`` or ``.parquet`` file or a ``datasets`` folder of records with an
            ``id_field`` and a ``text_field``; other fields become each document's metadata.
        out: folder to write; an existing index there is replaced only once the new one is complete.
        backend, precision, rescore, rescore_from, params: see :meth:`SearchIndex.create`.
        batch_size: encoding batch size.
        chunk_size: documents encoded and added at a time.
        model_name: how to load an in-memory ``model`` again (recorded in the index).
        show_progress: show a tqdm progress bar.
        truncate_dim: keep the first N dimensions, re-normalized; recorded, so search truncates queries too.
    """
    from tqdm.auto import tqdm

    model_path = model if isinstance(model, (str, os.PathLike)) else None
    check_output_folder(out, overwrite=True, inputs=[corpus, model_path])  # before hours of encoding
    total = count_documents(corpus)
    if isinstance(model, (str, os.PathLike)):
        model_name, model = str(model), load_model(model)
    if truncate_dim is not None:
        set_truncate_dim(model, truncate_dim)
    index = SearchIndex.create(
        model,
        model_name,
        backend=backend,
        precision=precision,
        rescore=rescore,
        rescore_from=rescore_from,
        expected_count=total,
        **params,
    )
    training_ids: list[str] = []
    training_vectors: list[np.ndarray] = []
    with tqdm(
        total=total, unit="doc", desc=f"indexing ({backend}, {precision})", disable=not show_progress
    ) as bar:
        for documents in _chunks(read_corpus(corpus, id_field, text_field), chunk_size):
            ids = [document.id for document in documents]
            index.payloads.put_many((document.id, document.text, document.metadata) for document in documents)
            vectors = encode_texts(model, [document.text for document in documents], "document", batch_size)
            if len(index) == 0 and index.backend.train_size:
                training_ids += ids
                training_vectors.append(vectors)
                if len(training_ids) >= index.backend.train_size:
                    index.add(training_ids, np.concatenate(training_vectors))
                    training_ids, training_vectors = [], []
            else:
                index.add(ids, vectors)
            bar.update(len(documents))
    if training_ids:
        index.add(training_ids, np.concatenate(training_vectors))
    index.save(out)
    return index


def _chunks(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk
