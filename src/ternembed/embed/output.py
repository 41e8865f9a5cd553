"""The output Parquet file, written resumably: one part file per chunk, a manifest, then one atomic merge.

While a run is under way its chunks go to ``VECTORS.parquet.partial/part-NNNNNN.parquet``, each
written under a temporary name and renamed; ``manifest.json`` (also renamed into place) lists the
finished chunks and the settings they were made with. ``--resume`` skips those chunks; at the end
the parts are merged, in order, into ``VECTORS.parquet`` (again through a temporary name) and the
parts folder is removed. Schema metadata records model, dimension, precision,
int8 scale, truncation and field names (the format: :mod:`ternembed.data.vectors_file`).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.data.records import Chunk
from ternembed.data.vectors_file import FORMAT_VERSION, vector_schema
from ternembed.embed.errors import EmbedOutputError
from ternembed.embed.vectors import vector_array
from ternembed.index.precision import Precision

MANIFEST_FILE = "manifest.json"


class PartsWriter:
    """Part files and manifest of one output; see the module docstring.

    Args:
        out: the final ``.parquet`` file.
        settings: what the vectors depend on (model, corpus, fields, precision, truncation, chunk size);
            a resumed run must match them.
        resume: continue from the parts folder's manifest.
        overwrite: replace a finished output and discard an unfinished run's parts.
    """

    def __init__(
        self, out: str | os.PathLike, settings: dict[str, Any], *, resume: bool, overwrite: bool
    ) -> None:
        self.out = Path(out).expanduser().absolute()
        self.parts = self.out.with_name(self.out.name + ".partial")
        self.settings = settings
        if self.out.suffix.lower() != ".parquet":
            raise EmbedOutputError(f"--out {str(out)!r} must end in .parquet")
        if self.out.exists() and not overwrite:
            raise EmbedOutputError(f"{str(self.out)!r} already exists; pass --overwrite to replace it")
        manifest = self._read_manifest()
        if manifest is not None and overwrite:
            shutil.rmtree(self.parts)
            manifest = None
        if manifest is not None and not resume:
            raise EmbedOutputError(
                f"{str(self.parts)!r} holds an interrupted run ({len(manifest['done'])} chunks done); "
                "pass --resume to continue it or --overwrite to start over"
            )
        if manifest is not None and manifest["settings"] != settings:
            changed = sorted(k for k in settings if manifest["settings"].get(k) != settings[k])
            raise EmbedOutputError(
                f"cannot resume {str(self.parts)!r}: {', '.join(changed)} differ from the interrupted run's; "
                "use the same settings, or --overwrite to start over"
            )
        self.manifest = manifest or {"format_version": FORMAT_VERSION, "settings": settings, "done": {}}

    @property
    def done(self) -> frozenset[int]:
        """Chunk indices already written."""
        return frozenset(int(index) for index in self.manifest["done"])

    @property
    def state(self) -> dict[str, Any]:
        """Values fixed by the first chunk and kept across resumes (``int8_scale``, ``width``, ``dimension``)."""
        return self.manifest.setdefault("state", {})

    def write_chunk(self, chunk: Chunk, vectors: np.ndarray, precision: Precision) -> None:
        """Write one chunk's part file, then record it in the manifest."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.parts.mkdir(parents=True, exist_ok=True)
        if vectors.shape[0] != len(chunk):
            raise RuntimeError(f"chunk {chunk.index}: {vectors.shape[0]} vectors for {len(chunk)} records")
        column = vector_array(vectors, precision, self.state.get("int8_scale"))
        self.state.setdefault("width", column.type.list_size)
        self.state.setdefault("dimension", int(vectors.shape[1]))
        table = pa.table({"id": chunk.ids, "vector": column, "payload": chunk.payloads})
        name = f"part-{chunk.index:06d}.parquet"
        temporary = self.parts / f".{name}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.parts / name)
        self.manifest["done"][str(chunk.index)] = len(chunk)
        self._write_manifest()

    def finish(self, metadata: dict[str, Any], precision: Precision) -> int:
        """Merge the parts, in chunk order, into the output file; returns its row count."""
        import pyarrow.parquet as pq

        order = sorted(self.done)
        if order != list(range(len(order))):
            raise EmbedOutputError(f"{str(self.parts)!r} is missing chunks; rerun with --resume")
        rows = sum(self.manifest["done"].values())
        schema = vector_schema(precision, self.state["width"], {**metadata, "count": rows})
        temporary = self.out.with_name(f".{self.out.name}.tmp")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(temporary, schema) as writer:
            for index in order:
                writer.write_table(pq.read_table(self.parts / f"part-{index:06d}.parquet").cast(schema))
        os.replace(temporary, self.out)
        shutil.rmtree(self.parts)
        return rows

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.parts / MANIFEST_FILE
        if not self.parts.exists():
            return None
        if not path.is_file():
            raise EmbedOutputError(
                f"{str(self.parts)!r} exists but is not a ternembed embed run (no {MANIFEST_FILE}); remove it"
            )
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise EmbedOutputError(f"{path} has another format version; pass --overwrite to start over")
        return manifest

    def _write_manifest(self) -> None:
        temporary = self.parts / f".{MANIFEST_FILE}.tmp"
        temporary.write_text(json.dumps(self.manifest, indent=1), encoding="utf-8")
        os.replace(temporary, self.parts / MANIFEST_FILE)
