"""Dynamic batching: one worker thread embeds the sequences of all waiting requests in merged batches.

A request's sequences join a FIFO queue. Whenever the model is free the worker takes as many waiting
sequences as fit in ``max_batch_tokens`` (counted padded: sequences times the longest one) and runs one
forward pass. It never waits for a batch to fill: what arrived while the previous batch ran forms the
next one, so a lone request goes at once and a busy server runs large batches. With batching off each
batch holds one request's sequences only (for comparison).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.serve.metrics import ServerMetrics


@dataclass(eq=False)
class _Job:
    sequences: Sequence[list[int]]
    future: Future
    enqueued: float
    rows: list[np.ndarray | None] = field(default_factory=list)
    remaining: int = 0
    started: bool = False


class BatchingWorker:
    """Embeds token sequences for many concurrent callers with one model, in merged batches."""

    def __init__(
        self,
        embed: Callable[[Sequence[list[int]]], np.ndarray],
        max_batch_tokens: int,
        metrics: ServerMetrics,
        batching: bool = True,
    ) -> None:
        self._embed = embed
        self.max_batch_tokens = int(max_batch_tokens)
        self.batching = batching
        self._metrics = metrics
        self._pending: deque[tuple[_Job, int]] = deque()
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="ternembed-batching", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish every queued sequence, then end the worker thread."""
        with self._condition:
            self._stopping = True
            self._condition.notify()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, sequences: Sequence[list[int]]) -> Future:
        """A future of the float32 ``[n, d]`` embeddings of ``sequences`` (in order)."""
        future: Future = Future()
        if not sequences:
            raise InvalidArgumentError("nothing to embed")
        job = _Job(sequences, future, time.perf_counter(), [None] * len(sequences), len(sequences))
        with self._condition:
            if self._stopping:
                raise RuntimeError("the server is shutting down")
            self._pending.extend((job, index) for index in range(len(sequences)))
            self._condition.notify()
        return future

    def _take_batch(self) -> list[tuple[_Job, int]]:
        """The longest queue prefix whose padded size fits the token budget (at least one sequence)."""
        batch: list[tuple[_Job, int]] = []
        longest = 0
        while self._pending:
            job, index = self._pending[0]
            if batch and not self.batching and job is not batch[0][0]:
                break
            length = max(longest, len(job.sequences[index]))
            if batch and length * (len(batch) + 1) > self.max_batch_tokens:
                break
            batch.append(self._pending.popleft())
            longest = length
        return batch

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending and not self._stopping:
                    self._condition.wait()
                if not self._pending:
                    return
                batch = self._take_batch()
            self._run_batch(batch)

    def _run_batch(self, batch: list[tuple[_Job, int]]) -> None:
        now = time.perf_counter()
        for job, _ in batch:
            if not job.started:
                job.started = True
                self._metrics.queue_seconds.observe(now - job.enqueued)
        sequences = [job.sequences[index] for job, index in batch]
        try:
            vectors = self._embed(sequences)
        except Exception as error:  # a failed forward pass fails its requests, never the worker
            for job in {job for job, _ in batch}:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        self._metrics.inference_seconds.observe(time.perf_counter() - now)
        self._metrics.batch_size.observe(len(batch))
        self._metrics.batch_tokens.observe(len(batch) * max(len(sequence) for sequence in sequences))
        for (job, index), vector in zip(batch, vectors, strict=True):
            if job.future.done():
                continue
            job.rows[index] = vector
            job.remaining -= 1
            if job.remaining == 0:
                job.future.set_result(np.stack(job.rows))
