"""``embed_corpus``: a corpus of any size to one Parquet file of vectors, resumable chunk by chunk."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ternembed.data.records import CorpusReader, RecordsError
from ternembed.data.vectors_file import FORMAT_VERSION
from ternembed.embed.engines import EngineName, RaySettings, embed_local, embed_ray
from ternembed.embed.output import PartsWriter
from ternembed.embed.vectors import EmbedSettings, int8_scale
from ternembed.index.precision import Precision, check_precision

DEFAULT_CHUNK_SIZE = 2048
"""Records read, embedded and written (one part file) at a time; also the unit of resuming."""


@dataclass(frozen=True)
class EmbedResult:
    """What a run wrote: the file, its rows, vector dimension and precision, and this session's time."""

    out: Path
    rows: int
    dimension: int
    precision: Precision
    rows_this_session: int
    seconds: float


def embed_corpus(
    model: str,
    corpus: str | os.PathLike,
    out: str | os.PathLike,
    *,
    precision: Precision = "float32",
    id_field: str = "id",
    text_field: str = "text",
    truncate_dim: int | None = None,
    batch_size: int = 32,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: EngineName = "local",
    ray_settings: RaySettings | None = None,
    threads: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    show_progress: bool = True,
) -> EmbedResult:
    """Embed every record of ``corpus`` with ``model`` into the Parquet file ``out``.

    Args:
        model: model name or folder (full-precision or packed ternary).
        corpus: ``.jsonl``, ``.csv``, ``.parquet`` or a ``datasets`` save_to_disk folder.
        out: ``.parquet`` file with columns ``id``, ``vector`` and ``payload`` (the other fields as JSON).
        precision: ``float32``, ``int8`` (one scale, in the schema metadata) or ``binary`` (packed sign bits).
        truncate_dim: keep the first N dimensions, re-normalized (Matryoshka).
        chunk_size: records per part file; an interrupted run resumes at the first unfinished chunk.
        engine: ``local`` (this process) or ``ray`` (Ray Data actors; see ``ray_settings``).
        threads: torch threads of the local engine.
        resume: continue an interrupted run of the same settings; overwrite: start over / replace ``out``.
    """
    from tqdm.auto import tqdm

    from ternembed.models import resolve_model

    precision = check_precision(precision)
    if batch_size <= 0:
        raise RecordsError(f"batch size must be positive, got {batch_size}")
    reader = CorpusReader(corpus, id_field, text_field)
    stat = Path(corpus).stat()
    settings = {
        "model": resolve_model(model), "corpus": str(Path(corpus).absolute()), "corpus_bytes": stat.st_size,
        "corpus_mtime_ns": stat.st_mtime_ns, "id_field": id_field, "text_field": text_field,
        "precision": precision, "truncate_dim": truncate_dim, "chunk_size": chunk_size,
    }  # fmt: skip
    writer = PartsWriter(out, settings, resume=resume, overwrite=overwrite)
    embed_settings = EmbedSettings(settings["model"], truncate_dim, batch_size, threads)
    chunks = reader.chunks(chunk_size, skip=writer.done)
    if engine == "ray":
        pairs = embed_ray(chunks, embed_settings, ray_settings or RaySettings())
    elif engine == "local":
        pairs = embed_local(chunks, embed_settings)
    else:
        raise RecordsError(f"unknown engine {engine!r}; choose local or ray")
    done_rows = sum(writer.manifest["done"].values())
    start, session_rows = time.perf_counter(), 0
    with tqdm(total=reader.count(), initial=done_rows, unit="doc", desc=f"embedding ({engine})",
              disable=not show_progress, dynamic_ncols=True) as bar:  # fmt: skip
        for chunk, vectors in pairs:
            if precision == "int8" and "int8_scale" not in writer.state:
                writer.state["int8_scale"] = int8_scale(vectors)
            writer.write_chunk(chunk, vectors, precision)
            session_rows += len(chunk)
            bar.update(len(chunk))
    metadata = {
        "format_version": FORMAT_VERSION, "model": settings["model"], "dimension": writer.state["dimension"],
        "precision": precision, "int8_scale": writer.state.get("int8_scale"), "truncate_dim": truncate_dim,
        "id_field": id_field, "text_field": text_field, "corpus": settings["corpus"],
    }  # fmt: skip
    rows = writer.finish(metadata, precision)
    return EmbedResult(
        writer.out, rows, metadata["dimension"], precision, session_rows, time.perf_counter() - start
    )
