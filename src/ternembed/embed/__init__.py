"""Embedding corpora of any size to Parquet, in one process or on Ray.

- :mod:`ternembed.data.records` streams JSON lines, CSV, Parquet and saved datasets in chunks.
- :mod:`~ternembed.embed.vectors` embeds a chunk and encodes the vector column (float32/int8/binary).
- :mod:`~ternembed.embed.engines` runs the chunks locally or through Ray Data actors.
- :mod:`~ternembed.embed.output` writes part files with a manifest, so a run resumes, then merges them
  into the format of :mod:`ternembed.data.vectors_file`.
- :mod:`~ternembed.embed.pipeline` ties them together in :func:`embed_corpus`.
"""

from ternembed.data.records import CorpusReader, RecordsError
from ternembed.data.vectors_file import VectorsFileError, read_metadata
from ternembed.embed.engines import ENGINES, RaySettings
from ternembed.embed.errors import EmbedOutputError
from ternembed.embed.pipeline import DEFAULT_CHUNK_SIZE, EmbedResult, embed_corpus

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENGINES",
    "CorpusReader",
    "EmbedOutputError",
    "EmbedResult",
    "RaySettings",
    "RecordsError",
    "VectorsFileError",
    "embed_corpus",
    "read_metadata",
]
