"""SearchIndex: an ANN backend plus the document-id map and the model it belongs to.

It turns texts into vectors with its model, maps string document ids to backend labels, rescoring
the top candidates of int8/binary indexes with the float query (as sentence-transformers'
``semantic_search_faiss`` does), and saves everything to one folder.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.data.jsonl import read_json_object
from ternembed.errors import InvalidArgumentError
from ternembed.index.backends import BackendName, backend_class, create_backend
from ternembed.index.backends.base import VectorBackend, check_vectors
from ternembed.index.documents import compacted_parts
from ternembed.index.errors import IndexFormatError
from ternembed.index.model_ref import ModelReference, encode_texts, load_model
from ternembed.index.payloads import PAYLOADS_FILE, PayloadStore
from ternembed.index.precision import PRECISIONS, Precision, check_precision, code_bytes_per_vector
from ternembed.index.rescore_store import (
    RANGES_FILE,
    RESCORE_FROM,
    VECTORS_FILE,
    RescoreFrom,
    RescoreStore,
)
from ternembed.index.storage import (
    CONFIG_FILE,
    FILES_KEY,
    IDS_FILE,
    REBUILD,
    file_records,
    verify_files,
    write_folder_atomically,
)
from ternembed.matryoshka import set_truncate_dim

FORMAT_VERSION = 1
DEFAULT_RESCORE = 40
"""Candidates re-ranked by the float query for int8/binary indexes (4 x k=10, as in sentence-transformers' demos)."""

SearchResults = tuple[list[list[str]], list[list[float]]]


class SearchIndex:
    """Documents searchable by text: ids, an ANN backend, and the model (checked by fingerprint)."""

    def __init__(
        self,
        backend: VectorBackend,
        model_ref: ModelReference,
        doc_ids: list[str | None] | None = None,
        rescore: int = 0,
        model=None,
        rescore_store: RescoreStore | None = None,
        payloads: PayloadStore | None = None,
    ) -> None:
        self.backend = backend
        self.payloads = payloads if payloads is not None else PayloadStore()
        self.rescore_store = rescore_store
        self.model_ref = model_ref
        self.rescore = int(rescore)
        self.model = model
        self._doc_ids: list[str | None] = list(doc_ids or [])
        self._labels = {doc_id: label for label, doc_id in enumerate(self._doc_ids) if doc_id is not None}
        self._tombstones: set[int] = set()
        """Labels of documents removed from a backend that cannot delete; skipped by search, dropped on save."""

    @classmethod
    def create(
        cls,
        model,
        name_or_path: str | os.PathLike | None = None,
        *,
        backend: BackendName = "faiss-hnsw",
        precision: Precision = "float32",
        rescore: int | None = None,
        rescore_from: RescoreFrom = "codes",
        expected_count: int | None = None,
        **params: Any,
    ) -> SearchIndex:
        """An empty index for ``model``.

        Args:
            model: a SentenceTransformer; ``name_or_path`` is how to load it again (None: in memory only).
            backend: ANN library and structure.
            precision: stored embedding precision.
            rescore: candidates re-ranked by the float query; default ``DEFAULT_RESCORE`` for int8/binary, 0 for float32.
            rescore_from: re-rank against the index's own ``codes``, or against extra ``int8``/``float32``
                vectors kept on disk and memory-mapped (sentence-transformers' binary + int8 recipe).
            expected_count: about how many documents will be added (sizes IVF lists).
            params: backend options (``m``, ``ef_construction``, ``ef_search``, ``nlist``, ``nprobe``).
        """
        precision = check_precision(precision)
        model_ref = ModelReference.from_model(model, name_or_path)
        if backend == "usearch" and precision == "int8" and model_ref.similarity == "dot":
            raise InvalidArgumentError(
                "usearch int8 normalizes vectors, which changes dot-product rankings; "
                "use --backend faiss-hnsw for int8 with a dot-product model"
            )
        if rescore is None:
            rescore = 0 if precision == "float32" else DEFAULT_RESCORE
        if rescore < 0:
            raise InvalidArgumentError(f"rescore must be >= 0 candidates, got {rescore}")
        if rescore_from not in RESCORE_FROM:
            raise InvalidArgumentError(
                f"unknown rescore_from {rescore_from!r}; choose one of {', '.join(RESCORE_FROM)}"
            )
        if rescore_from != "codes" and precision == "float32":
            raise InvalidArgumentError(
                "rescore_from only applies to int8 or binary indexes; float32 codes are already exact"
            )
        store = None if rescore_from == "codes" else RescoreStore(rescore_from, model_ref.dimension)
        vectors = create_backend(backend, model_ref.dimension, precision, expected_count, **params)
        return cls(vectors, model_ref, rescore=rescore, model=model, rescore_store=store)

    @property
    def dimension(self) -> int:
        return self.model_ref.dimension

    @property
    def precision(self) -> Precision:
        return self.backend.precision

    @property
    def bytes_per_vector(self) -> int:
        """Bytes of one stored embedding code (4d float32, d int8, d/8 binary)."""
        return code_bytes_per_vector(self.precision, self.dimension)

    @property
    def index_bytes_per_vector(self) -> float:
        """Serialized index size per stored vector: codes plus graph links, lists and id maps."""
        return self.backend.index_bytes / max(len(self), 1)

    @property
    def rescore_bytes_per_vector(self) -> int:
        """Bytes per vector of the on-disk rescoring store (0 when rescoring uses the index's codes)."""
        return self.rescore_store.bytes_per_vector if self.rescore_store else 0

    @property
    def doc_ids(self) -> list[str]:
        """Ids of the documents in the index, in insertion order."""
        return [doc_id for doc_id in self._doc_ids if doc_id is not None]

    @property
    def raw_doc_ids(self) -> list[str | None]:
        """The id of every backend label, None where a document was removed."""
        return self._doc_ids

    def label(self, doc_id: str) -> int:
        """The backend label of a document, KeyError naming it when it is not in the index."""
        if doc_id not in self._labels:
            raise KeyError(f"document id {doc_id!r} is not in the index")
        return self._labels[doc_id]

    def __len__(self) -> int:
        return len(self._labels)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._labels

    def get_params(self) -> dict[str, Any]:
        """Search-time parameters: the backend's (``ef_search``/``nprobe``) and ``rescore``."""
        return {**self.backend.get_params(), "rescore": self.rescore}

    def set_params(self, **params: Any) -> None:
        """Change search-time parameters (``ef_search``, ``nprobe``, ``rescore``)."""
        if "rescore" in params:
            self.rescore = int(params.pop("rescore"))
        self.backend.set_params(**params)

    def add(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add documents by precomputed embeddings; ids must be new. Trains the backend on the first batch."""
        vectors = check_vectors(vectors, self.dimension)
        ids = [str(doc_id) for doc_id in ids]
        if len(ids) != len(vectors):
            raise InvalidArgumentError(f"got {len(ids)} ids for {len(vectors)} vectors")
        seen: set[str] = set()
        for doc_id in ids:
            if doc_id in seen:
                raise InvalidArgumentError(f"document id {doc_id!r} appears twice in this batch; ids must be unique")
            if doc_id in self._labels:
                raise InvalidArgumentError(
                    f"document id {doc_id!r} is already in the index; remove it first to replace it"
                )
            seen.add(doc_id)
        start = len(self._doc_ids)
        self.backend.add(np.arange(start, start + len(ids), dtype=np.int64), vectors)
        if self.rescore_store is not None:
            self.rescore_store.append(vectors)
        self._doc_ids.extend(ids)
        self._labels.update((doc_id, start + offset) for offset, doc_id in enumerate(ids))

    def add_texts(self, ids: Sequence[str], texts: Sequence[str], batch_size: int = 32) -> None:
        """Encode ``texts`` with the index's model and add them under ``ids``, keeping the texts as payloads."""
        if len(ids) != len(texts):
            raise InvalidArgumentError(f"got {len(ids)} ids for {len(texts)} texts")
        self.add(ids, encode_texts(self._require_model(), texts, "document", batch_size))
        self.payloads.put_many((str(doc_id), text, None) for doc_id, text in zip(ids, texts, strict=True))

    def remove(self, ids: Sequence[str]) -> None:
        """Delete documents by id; where the backend cannot delete (faiss-hnsw) they become tombstones
        that search skips and :meth:`save` drops."""
        missing = [doc_id for doc_id in ids if doc_id not in self._labels]
        if missing:
            raise KeyError(f"document id {missing[0]!r} is not in the index")
        if len(set(ids)) != len(ids):
            raise InvalidArgumentError("an id appears twice in the ids to remove")
        labels = np.array([self._labels[doc_id] for doc_id in ids], dtype=np.int64)
        if self.backend.supports_remove:
            self.backend.remove(labels)
        else:
            self._tombstones.update(int(label) for label in labels)
        for doc_id, label in zip(ids, labels, strict=True):
            self._doc_ids[label] = None
            del self._labels[doc_id]
            self.payloads.remove(doc_id)

    def search(self, queries: str | Sequence[str], k: int = 10, rescore: int | None = None) -> SearchResults:
        """Top-``k`` document ids and scores for each query text, best first."""
        texts = [queries] if isinstance(queries, str) else list(queries)
        vectors = encode_texts(self._require_model(), texts, "query")
        return self.search_vectors(vectors, k, rescore)

    def search_vectors(self, queries: np.ndarray, k: int = 10, rescore: int | None = None) -> SearchResults:
        """Top-``k`` document ids and scores for query embeddings ``[nq, d]`` from the index's model."""
        labels, scores = self.search_labels(queries, k, rescore)
        valid = labels >= 0
        ids = [[self._doc_ids[label] for label in row[keep]] for row, keep in zip(labels, valid, strict=True)]
        return ids, [row[keep].astype(float).tolist() for row, keep in zip(scores, valid, strict=True)]

    def search_labels(
        self, queries: np.ndarray, k: int = 10, rescore: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Backend labels ``[nq, k]`` (-1 padded) and scores; ``doc_id(label)`` names them."""
        if k < 1:
            raise InvalidArgumentError(f"k must be >= 1, got {k}")
        queries = check_vectors(queries, self.dimension, "queries")
        rescore = self.rescore if rescore is None else int(rescore)
        rescoring = rescore > 0 and self.precision != "float32"
        fetch = max(k, rescore) if rescoring else k
        labels, scores = self.backend.search(queries, fetch + len(self._tombstones))
        if self._tombstones:
            labels, scores = self._skip_tombstones(labels, scores)
        if rescoring:
            labels, scores = self._rescore(queries, labels[:, :fetch])
        return labels[:, :k], scores[:, :k]

    def _skip_tombstones(self, labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows with removed labels taken out, shifted left and padded with label -1."""
        dead = np.isin(labels, np.fromiter(self._tombstones, dtype=np.int64))
        order = np.argsort(dead, axis=1, kind="stable")
        labels = np.take_along_axis(np.where(dead, -1, labels), order, axis=1)
        scores = np.take_along_axis(np.where(dead, -np.inf, scores), order, axis=1).astype(np.float32)
        return labels, scores

    def _rescore(self, queries: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Re-rank candidates by the float query against their decoded stored codes."""
        valid = labels >= 0
        candidates = np.zeros((*labels.shape, self.dimension), dtype=np.float32)
        store = self.rescore_store
        candidates[valid] = store.vectors(labels[valid]) if store else self.backend.reconstruct(labels[valid])
        scores = np.einsum("qd,qcd->qc", queries, candidates)
        scores[~valid] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")
        return np.take_along_axis(labels, order, axis=1), np.take_along_axis(scores, order, axis=1)

    def doc_id(self, label: int) -> str | None:
        """Document id stored under a backend label (None if removed)."""
        return self._doc_ids[label]

    def _require_model(self):
        if self.model is None:
            raise InvalidArgumentError(
                "this index was loaded without a model; pass model= to SearchIndex.load to search by text"
            )
        return self.model

    def save(self, path: str | os.PathLike) -> Path:
        """Write backend, id map, payloads and model reference to folder ``path`` atomically.

        Tombstones are dropped first (the backend is rebuilt from the live vectors); the model is recorded
        relative to the folder too, so moving the index and its model together keeps them working.
        """
        if self._tombstones:
            backend, doc_ids, store = compacted_parts(self)
        else:
            backend, doc_ids, store = self.backend, self._doc_ids, self.rescore_store
        model_ref = self.model_ref.relative_to(Path(path))

        def write(folder: Path) -> None:
            backend.save(folder / backend.file_name)
            if store is not None:
                store.save(folder)
            with open(folder / IDS_FILE, "w", encoding="utf-8") as file:
                for doc_id in doc_ids:
                    file.write(json.dumps(doc_id, ensure_ascii=False) + "\n")
            self.payloads.save(folder, (doc_id for doc_id in doc_ids if doc_id is not None))
            hashed = [backend.file_name, IDS_FILE, PAYLOADS_FILE]
            if store is not None and store.precision == "int8":
                hashed.append(RANGES_FILE)
            files = file_records(folder, hashed, sized=[VECTORS_FILE] if store is not None else [])
            config = {
                "format_version": FORMAT_VERSION,
                "backend": self.backend.name,
                "precision": self.precision,
                "dimension": self.dimension,
                "count": len(self),
                "rescore": self.rescore,
                "rescore_from": self.rescore_store.precision if self.rescore_store else "codes",
                "build_params": self.backend.build_config(),
                "search_params": self.backend.get_params(),
                "bytes_per_vector": self.bytes_per_vector,
                "model": model_ref.to_dict(),
                FILES_KEY: files,
            }
            (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

        saved = write_folder_atomically(path, write)
        if self._tombstones:
            self.backend, self.rescore_store, self._tombstones = backend, store, set()
            self._doc_ids = list(doc_ids)
            self._labels = {doc_id: label for label, doc_id in enumerate(self._doc_ids) if doc_id is not None}
        return saved

    @classmethod
    def load(cls, path: str | os.PathLike, model=None, *, with_model: bool = True) -> SearchIndex:
        """Read an index folder.

        Args:
            path: folder written by :meth:`save` or ``ternembed index``.
            model: the SentenceTransformer to search with; checked against the index's fingerprint (an
                index built with ``truncate_dim`` sets it on the model).
            with_model: when ``model`` is None, load the model the index references (False: vectors only).
        """
        folder = Path(path)
        config = read_config(folder)
        if FILES_KEY in config:  # folders written before checksums were recorded load unchecked
            verify_files(folder, config[FILES_KEY])
        try:
            model_ref = ModelReference.from_dict(config["model"])
        except TypeError as error:
            raise IndexFormatError(f"{folder / CONFIG_FILE}: damaged 'model' entry ({error}); {REBUILD}") from None
        backend_cls = backend_class(config["backend"])
        backend = backend_cls.load(
            folder / backend_cls.file_name, config["dimension"], config["precision"], config["build_params"]
        )
        backend.set_params(**config["search_params"])
        doc_ids = read_ids(folder / IDS_FILE)
        if len(doc_ids) - doc_ids.count(None) != len(backend):
            raise IndexFormatError(
                f"{folder}: {IDS_FILE} lists {len(doc_ids) - doc_ids.count(None)} documents but the "
                f"{config['backend']} index holds {len(backend)}; the folder is damaged, {REBUILD}"
            )
        if model is None and with_model:
            if model_ref.name_or_path is None:
                raise InvalidArgumentError(f"{folder} was built with an in-memory model; pass model= to load it")
            model = load_model(model_ref.locate(folder))
        if model is not None:
            if model_ref.truncate_dim is not None:  # the index keeps the first N dimensions
                set_truncate_dim(model, model_ref.truncate_dim)
            model_ref.check(model)
        store = None
        if config["rescore_from"] != "codes":
            store = _load_rescore_store(folder, config, len(doc_ids))
        payloads = PayloadStore.load(folder)
        return cls(
            backend,
            model_ref,
            doc_ids,
            config["rescore"],
            model=model,
            rescore_store=store,
            payloads=payloads,
        )


_CONFIG_TYPES: dict[str, type | tuple[type, ...]] = {
    "backend": str,
    "precision": str,
    "dimension": int,
    "count": int,
    "rescore": int,
    "rescore_from": str,
    "build_params": dict,
    "search_params": dict,
    "model": dict,
}


def read_config(folder: Path) -> dict[str, Any]:
    """The parsed ``index_config.json`` of ``folder``, or IndexFormatError saying what is wrong."""
    config_path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise FileNotFoundError(f"index folder {str(folder)!r} does not exist")
    if not config_path.is_file():
        raise IndexFormatError(
            f"{str(folder)!r} is not a ternembed index (no {CONFIG_FILE}); build one with `ternembed index`"
        )
    config = read_json_object(config_path, IndexFormatError, REBUILD)
    if config.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(
            f"{config_path} has format version {config.get('format_version')!r}; this ternembed reads "
            f"version {FORMAT_VERSION}; rebuild the index"
        )
    for key, kind in _CONFIG_TYPES.items():
        value = config.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise IndexFormatError(
                f"{config_path}: {key!r} is {value!r}, not a JSON {kind.__name__}; the file is damaged, {REBUILD}"
            )
    if config["dimension"] < 1 or config["rescore"] < 0 or config["precision"] not in PRECISIONS:
        raise IndexFormatError(
            f"{config_path}: dimension {config['dimension']}, rescore {config['rescore']} or precision "
            f"{config['precision']!r} is out of range; the file is damaged, {REBUILD}"
        )
    if config["rescore_from"] not in RESCORE_FROM:
        raise IndexFormatError(
            f"{config_path}: unknown rescore_from {config['rescore_from']!r}; the file is damaged, {REBUILD}"
        )
    return config


def read_ids(path: Path) -> list[str | None]:
    """The id of every backend label (None where removed), or IndexFormatError naming the damaged line."""
    if not path.is_file():
        raise IndexFormatError(f"{path} is missing from the index folder; {REBUILD}")
    doc_ids: list[str | None] = []
    with open(path, encoding="utf-8", errors="strict") as file:
        try:
            for number, line in enumerate(file, start=1):
                try:
                    doc_id = json.loads(line)
                except ValueError:
                    doc_id = 0  # not an id: reported below
                if doc_id is not None and not isinstance(doc_id, str):
                    raise IndexFormatError(f"{path}:{number}: not a JSON string id or null; {REBUILD}")
                doc_ids.append(doc_id)
        except UnicodeDecodeError:
            raise IndexFormatError(f"{path}: not UTF-8 text; {REBUILD}") from None
    live = [doc_id for doc_id in doc_ids if doc_id is not None]
    if len(set(live)) != len(live):
        raise IndexFormatError(f"{path} lists an id twice; {REBUILD}")
    return doc_ids


def _load_rescore_store(folder: Path, config: dict[str, Any], count: int) -> RescoreStore:
    """The rescoring vectors, checked to hold one row of the index's dimension per label."""
    try:
        store = RescoreStore.load(folder, config["rescore_from"], config["dimension"])
        rows = store._matrix()
    except (OSError, ValueError, EOFError) as error:
        raise IndexFormatError(
            f"{folder / VECTORS_FILE} cannot be read ({error}); the folder is damaged, {REBUILD}"
        ) from None
    expected_dtype = np.int8 if config["rescore_from"] == "int8" else np.float32
    if rows.shape != (count, config["dimension"]) or rows.dtype != expected_dtype:
        raise IndexFormatError(
            f"{folder / VECTORS_FILE} holds {rows.dtype} {tuple(rows.shape)} but the index needs "
            f"{np.dtype(expected_dtype)} ({count}, {config['dimension']}); the folder is damaged, {REBUILD}"
        )
    if store.ranges is not None and np.shape(store.ranges) != (2, config["dimension"]):
        raise IndexFormatError(f"{folder / RANGES_FILE} has shape {np.shape(store.ranges)}; {REBUILD}")
    return store
