"""Engines turn a stream of chunks into ``(chunk, vectors)`` pairs, in chunk order.

``local`` embeds in this process. ``ray`` runs the same :class:`ChunkEmbedder` as a Ray Data actor
class (``map_batches`` over an actor pool, each actor loading the model once): chunks are sent in
windows of a few per actor, so memory holds a window, not the corpus, and results are put back in
order before they are written. Both engines embed exactly the same chunks with the same batch size,
so they give the same vectors.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ternembed.data.records import Chunk
from ternembed.embed.vectors import ChunkEmbedder, EmbedSettings

EngineName = Literal["local", "ray"]
ENGINES: tuple[str, ...] = ("local", "ray")
CHUNKS_PER_ACTOR = 4
"""Chunks per actor in one Ray window: enough to keep actors busy, few enough to bound memory."""


def embed_local(chunks: Iterable[Chunk], settings: EmbedSettings) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Embed chunk after chunk in this process."""
    embedder = ChunkEmbedder(settings)
    for chunk in chunks:
        yield chunk, embedder.embed(chunk.texts)


@dataclass(frozen=True)
class RaySettings:
    """Where and how wide the Ray engine runs.

    Attributes:
        address: a Ray cluster address (``ray://host:10001`` or ``auto``); None: ``$RAY_ADDRESS`` when set,
            else a local Ray instance started (and stopped) here.
        actors: model-holding actors (each loads the model once).
        cpus_per_actor: CPUs each actor reserves (and its torch threads).
        num_cpus: CPUs of a local instance (default: ``actors * cpus_per_actor``).
    """

    address: str | None = None
    actors: int = 1
    cpus_per_actor: int = 1
    num_cpus: int | None = None


def embed_ray(
    chunks: Iterable[Chunk], settings: EmbedSettings, ray_settings: RaySettings
) -> Iterator[tuple[Chunk, np.ndarray]]:
    """Embed chunks through Ray Data ``map_batches`` with an actor pool, yielding them in order."""
    import logging
    import os

    import ray

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # progress is our own bar
    ray.data.DataContext.get_current().enable_progress_bars = False
    started_here = not ray.is_initialized()
    if started_here:
        address = ray_settings.address or os.environ.get("RAY_ADDRESS")
        if address:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        else:
            cpus = ray_settings.num_cpus or ray_settings.actors * ray_settings.cpus_per_actor
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    try:
        actor_settings = EmbedSettings(
            settings.model, settings.truncate_dim, settings.batch_size, ray_settings.cpus_per_actor
        )
        iterator = iter(chunks)
        window_size = ray_settings.actors * CHUNKS_PER_ACTOR
        while window := list(itertools.islice(iterator, window_size)):
            vectors = _embed_window(window, actor_settings, ray_settings)
            for chunk in window:
                yield chunk, vectors[chunk.index]
    finally:
        if started_here:
            ray.shutdown()


def _embed_window(
    window: list[Chunk], settings: EmbedSettings, ray_settings: RaySettings
) -> dict[int, np.ndarray]:
    import pyarrow as pa
    import ray

    tables, starts = [], {}
    row = 0
    for chunk in window:
        starts[chunk.index] = row
        tables.append(pa.table({"row": np.arange(row, row + len(chunk)), "text": chunk.texts}))
        row += len(chunk)
    embedded = ray.data.from_arrow(tables).map_batches(
        ChunkEmbedder,
        fn_constructor_args=(settings,),
        batch_size=None,  # one batch per block, i.e. per chunk: the same encode calls as the local engine
        batch_format="numpy",
        concurrency=ray_settings.actors,
        num_cpus=ray_settings.cpus_per_actor,
    )
    rows, vectors = [], []
    for batch in embedded.iter_batches(batch_size=None, batch_format="numpy"):
        rows.append(batch["row"])
        vectors.append(np.asarray(batch["vector"], dtype=np.float32))
    ordered = np.empty((row, vectors[0].shape[1]), dtype=np.float32)
    ordered[np.concatenate(rows)] = np.concatenate(vectors)
    return {chunk.index: ordered[starts[chunk.index] : starts[chunk.index] + len(chunk)] for chunk in window}
