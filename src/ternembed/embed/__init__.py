"""Embedding corpora of any size to Parquet, in one process or on Ray.

- :mod:`~ternembed.embed.reader` streams JSON lines, CSV, Parquet and saved datasets in chunks.
- :mod:`~ternembed.embed.vectors` embeds a chunk and encodes the vector column (float32/int8/binary).
- :mod:`~ternembed.embed.engines` runs the chunks locally or through Ray Data actors.
- :mod:`~ternembed.embed.output` writes part files with a manifest, so a run resumes, then merges them.
- :mod:`~ternembed.embed.pipeline` ties them together in :func:`embed_corpus`.
"""

from ternembed.embed.engines import ENGINES, RaySettings
from ternembed.embed.errors import EmbedInputError, EmbedOutputError
from ternembed.embed.output import read_metadata
from ternembed.embed.pipeline import DEFAULT_CHUNK_SIZE, EmbedResult, embed_corpus
from ternembed.embed.reader import CorpusReader

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENGINES",
    "CorpusReader",
    "EmbedInputError",
    "EmbedOutputError",
    "EmbedResult",
    "RaySettings",
    "embed_corpus",
    "read_metadata",
]
