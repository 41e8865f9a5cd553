"""Filling a Chroma, LanceDB or Qdrant collection from a JSON-lines corpus (``ternembed index --backend``).

The corpus is read with the index package's reader and checked in full before the database is
touched, the model is loaded before anything is written, and a collection that already exists is
kept unless ``overwrite``; an overwrite replaces it only once the new one is complete.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ternembed.errors import InvalidArgumentError
from ternembed.index.corpus import Document, read_corpus
from ternembed.integrations import DATABASE_NAMES
from ternembed.integrations.common import CollectionExistsError, TextEncoder, encoder_for

DEFAULT_COLLECTION = "documents"
STAGING_SUFFIX = "-ternembed-staging"
"""Suffix of the collection an overwrite is built in before it replaces the old one."""
_MARKER_FILES = {"chroma": "chroma.sqlite3", "qdrant": "meta.json"}
"""The file by which an existing folder is recognised as that database's (LanceDB: ``*.lance`` folders)."""


@dataclass(frozen=True)
class IngestResult:
    """What was written where."""

    backend: str
    location: str
    collection: str
    count: int
    dimension: int
    precision: str


def write_corpus(
    model,
    corpus: str | os.PathLike,
    backend: str,
    out: str | os.PathLike,
    *,
    collection: str = DEFAULT_COLLECTION,
    overwrite: bool = False,
    precision: str = "float32",
    batch_size: int = 32,
    id_field: str = "id",
    text_field: str = "text",
    show_progress: bool = True,
) -> IngestResult:
    """Embed every document of ``corpus`` with ``model`` and write them into ``backend`` at ``out``.

    Args:
        model: a model folder or name, or a loaded model.
        corpus: JSON-lines file with one ``{id_field: ..., text_field: ...}`` object per line.
        backend: ``chroma``, ``lancedb`` or ``qdrant``.
        out: the database folder (created if missing); for Qdrant also an ``http(s)://`` server address.
        collection: the collection (Chroma, Qdrant) or table (LanceDB) name.
        overwrite: replace an existing collection of that name instead of refusing.
        precision: ``float32``; LanceDB also takes ``int8`` (see ``ternembed.integrations.lancedb``).
        batch_size: encoding batch size.
        show_progress: show a tqdm progress bar.
    """
    if backend not in DATABASE_NAMES:
        raise InvalidArgumentError(f"unknown database {backend!r}; choose one of {', '.join(DATABASE_NAMES)}")
    allowed = ("float32", "int8") if backend == "lancedb" else ("float32",)
    if precision not in allowed:
        raise InvalidArgumentError(f"{backend} stores precision {' or '.join(allowed)} here, not {precision!r}")
    importlib.import_module(f"ternembed.integrations.{backend}")  # or an error naming what to install
    location = os.fspath(out)
    if not location.startswith(("http://", "https://")):
        _check_folder(Path(location), backend)
    elif backend != "qdrant":
        raise InvalidArgumentError(
            f"--out {location!r} is an address; {backend} writes a local folder here (qdrant takes a URL)"
        )
    count = sum(1 for _ in read_corpus(corpus, id_field, text_field))
    encoder = encoder_for(model, batch_size)
    documents = _progress(read_corpus(corpus, id_field, text_field), count, backend, show_progress)
    _WRITERS[backend](encoder, documents, location, collection, overwrite, precision)
    return IngestResult(backend, location, collection, count, encoder.dimension, precision)


def _check_folder(folder: Path, backend: str) -> None:
    """Refuse a file, or a non-empty folder that is not a database of this kind."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"--out {str(folder)!r} is a file; give a folder for the {backend} database")
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if backend == "lancedb":
        known = any(path.suffix == ".lance" for path in folder.iterdir())
    else:
        known = (folder / _MARKER_FILES[backend]).is_file()
    if not known:
        raise InvalidArgumentError(
            f"--out {str(folder)!r} is a non-empty folder that is not a {backend} database; "
            "choose an empty or new folder"
        )


def _progress(documents: Iterable[Document], total: int, backend: str, show: bool) -> Iterator[Document]:
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="doc", desc=f"indexing into {backend}", disable=not show) as bar:
        for document in documents:
            yield document
            bar.update(1)


def _exists_error(backend: str, collection: str, location: str) -> CollectionExistsError:
    kind = "table" if backend == "lancedb" else "collection"
    return CollectionExistsError(
        f"{backend} {kind} {collection!r} already exists in {location}; "
        "pass --overwrite to replace it or --collection to choose another name"
    )


def _write_chroma(encoder: TextEncoder, documents, location, collection, overwrite, precision) -> None:
    from ternembed.integrations import chroma

    client = chroma.persistent_client(location)
    names = {getattr(item, "name", item) for item in client.list_collections()}
    if collection in names and not overwrite:
        raise _exists_error("chroma", collection, location)
    function = chroma.TernembedEmbeddingFunction(encoder)
    staging = collection + STAGING_SUFFIX
    if staging in names:
        client.delete_collection(staging)
    target = client.create_collection(
        staging, embedding_function=function, configuration=_chroma_space(function)
    )
    try:
        chroma.add_documents(target, documents)
    except BaseException:
        client.delete_collection(staging)
        raise
    if collection in names:
        client.delete_collection(collection)
    target.modify(name=collection)


def _chroma_space(function) -> dict:
    return {"hnsw": {"space": function.default_space()}}


def _write_lancedb(encoder: TextEncoder, documents, location, collection, overwrite, precision) -> None:
    from ternembed.integrations import lancedb as lance

    db = lance.connect(location)
    if collection in _lance_tables(db) and not overwrite:
        raise _exists_error("lancedb", collection, location)
    if encoder.name_or_path is None:
        raise InvalidArgumentError("LanceDB stores how to reload the model; pass the model's folder or name")
    lance.create_table(
        db,
        collection,
        encoder.name_or_path,
        documents,
        precision=precision,
        overwrite=overwrite,
        batch_size=encoder.batch_size,
    )


def _lance_tables(db) -> set[str]:
    listing = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    return set(getattr(listing, "tables", listing))


def _write_qdrant(encoder: TextEncoder, documents, location, collection, overwrite, precision) -> None:
    from qdrant_client.http.exceptions import ResponseHandlingException

    from ternembed.integrations import qdrant

    client = qdrant.connect(location)
    try:
        try:
            exists = client.collection_exists(collection)
        except ResponseHandlingException as error:
            raise ConnectionError(f"cannot reach the Qdrant server at {location}: {error}") from error
        if exists and not overwrite:
            raise _exists_error("qdrant", collection, location)
        staging = collection + STAGING_SUFFIX if exists else collection
        store = qdrant.TernembedQdrant(client, staging, encoder)
        store.create_collection(overwrite=staging != collection)
        try:
            store.add_documents(documents)
        except BaseException:
            client.delete_collection(staging)
            raise
        if exists:
            _replace_qdrant_collection(client, staging, collection, store.vectors_config())
    finally:
        client.close()


def _replace_qdrant_collection(client, staging: str, collection: str, vectors_config: dict) -> None:
    """Qdrant cannot rename: copy the finished staging collection's points over the old one."""
    client.delete_collection(collection)
    client.create_collection(collection, vectors_config=vectors_config)
    offset = None
    while True:
        points, offset = client.scroll(
            staging, limit=512, offset=offset, with_vectors=True, with_payload=True
        )
        if points:
            client.upsert(collection, points=[_point_struct(point) for point in points])
        if offset is None:
            break
    client.delete_collection(staging)


def _point_struct(record):
    from ternembed.integrations.qdrant import models

    return models.PointStruct(id=record.id, vector=record.vector, payload=record.payload)


_WRITERS = {"chroma": _write_chroma, "lancedb": _write_lancedb, "qdrant": _write_qdrant}
