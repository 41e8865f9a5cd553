"""ANN benchmark of embedding models on a retrieval task: quality vs exact search, speed, memory.

For each model: embed corpus and queries once; exact float32 search gives the reference top-k and
nDCG@10/Recall@10; then every (backend, precision) index is built once and swept over its search
parameter (efSearch, nprobe), with and without rescoring for int8/binary. Each operating point
records k-NN recall vs exact, nDCG@10, Recall@10 and single-query QPS. End-to-end latency is one
query's encode + search on the default index, the models taking turns query by query. ``report.py`` turns the result into Markdown and a PNG.

Everything runs on ``BenchSettings.threads`` threads (default 1, as ann-benchmarks measures one query
at a time): on a shared machine, OpenMP and torch thread pools that spin-wait for busy cores make
multi-threaded single-query timings meaningless.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ternembed.index.backends import BACKEND_NAMES, DEFAULT_BACKEND, backend_options
from ternembed.index.backends.base import HNSW_EF_CONSTRUCTION, HNSW_M
from ternembed.index.metrics import knn_recall, ranked_run, retrieval_metrics
from ternembed.index.model_ref import encode_texts, load_model
from ternembed.index.precision import PRECISIONS
from ternembed.index.report import HNSW_BACKEND
from ternembed.index.rescore_store import RescoreStore
from ternembed.index.search_index import DEFAULT_RESCORE, SearchIndex

SWEEPS: dict[str, tuple[str, tuple[int, ...]]] = {
    "faiss-hnsw": ("ef_search", (16, 32, 64, 128, 256)),
    "usearch": ("ef_search", (16, 32, 64, 128, 256)),
    "faiss-ivf": ("nprobe", (1, 2, 4, 8, 16, 32, 64, 128, 256)),
}
"""Search parameter swept per backend; faiss-flat (exact) has one operating point."""
RESCORE_VARIANTS: dict[str, tuple[tuple[bool, str], ...]] = {
    "float32": ((False, "codes"),),
    "int8": ((False, "codes"), (True, "codes")),
    "binary": ((False, "codes"), (True, "codes"), (True, "int8")),
}
"""(rescored?, rescore_from) curves measured per precision; binary also with int8 vectors on disk."""
WARMUP_QUERIES = 5
"""Untimed queries first: they warm caches, thread pools and lazily built kernels."""
TARGET_KNN_RECALL = 0.95
"""The summary operating point: the fastest one reaching this k-NN recall (else the most accurate)."""


@dataclass(frozen=True)
class BenchSettings:
    """What to measure and how much.

    Attributes:
        backends: backends to build.
        precisions: stored precisions to build for each backend.
        k: cutoff of nDCG, Recall and k-NN recall.
        rescore: candidate counts re-ranked by the float query for int8/binary (one curve each, besides
            no rescoring).
        timing_queries: queries searched one at a time for QPS.
        latency_queries: queries encoded and searched one at a time for end-to-end latency.
        batch_size: encoding batch size.
        threads: torch and faiss threads for the whole benchmark.
        hnsw_m: neighbours per node of the HNSW graphs.
        hnsw_ef_construction: build beam width of the HNSW graphs.
    """

    backends: tuple[str, ...] = BACKEND_NAMES
    precisions: tuple[str, ...] = PRECISIONS
    k: int = 10
    rescore: tuple[int, ...] = (DEFAULT_RESCORE,)
    timing_queries: int = 300
    latency_queries: int = 50
    batch_size: int = 64
    threads: int = 1
    hnsw_m: int = HNSW_M
    hnsw_ef_construction: int = HNSW_EF_CONSTRUCTION


@dataclass
class ModelBench:
    """Everything measured for one model."""

    name: str
    role: str
    dimension: int
    corpus_encode_s: float
    exact: dict[str, float]
    latency_ms: dict[str, Any]
    configs: list[dict[str, Any]] = field(default_factory=list)


def run_bench(
    model: str | Any,
    task: str | os.PathLike,
    baseline: str | Any | None = None,
    settings: BenchSettings = BenchSettings(),
    model_name: str | None = None,
    baseline_name: str | None = None,
    task_size: str = "full",
    progress: bool = True,
) -> dict[str, Any]:
    """Benchmark ``model`` (and ``baseline``) on retrieval task ``task``; a JSON-ready dict.

    Args:
        model: model name/folder, or a loaded SentenceTransformer (then give ``model_name``).
        task: ``wordnet-retrieval`` or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).
        baseline: the reference model, usually the full-precision teacher; None for none.
        settings: backends, precisions, sweep sizes.
        task_size: ``full`` or ``quick`` for built-in tasks.
        progress: print one line per step to stderr.
    """
    from ternembed.eval.tasks import load_retrieval_data

    data = load_retrieval_data(task, size=task_size)
    doc_ids = list(data.corpus)
    query_ids = [qid for qid in data.queries if qid in data.qrels]
    report: dict[str, Any] = {
        "task": str(task),
        "corpus_size": len(doc_ids),
        "query_count": len(query_ids),
        "k": settings.k,
        "settings": asdict(settings),
        "models": [],
    }
    entries = [("model", model, model_name)] + (
        [("baseline", baseline, baseline_name)] if baseline is not None else []
    )
    with _threads(settings.threads):
        report["environment"] = _environment()
        searchers = []
        for role, candidate, name in entries:
            if isinstance(candidate, (str, os.PathLike)):
                name, candidate = str(candidate), load_model(candidate)
            result, latency_index = bench_model(
                candidate, name or role, role, data, doc_ids, query_ids, settings, progress
            )
            report["models"].append(asdict(result))
            searchers.append((candidate, latency_index))
        texts = [data.queries[q] for q in query_ids]
        for entry, latency in zip(
            report["models"], end_to_end_latency(searchers, texts, settings), strict=True
        ):
            entry["latency_ms"] = latency
            _printer(progress, entry["name"])(
                f"end-to-end latency {latency['end_to_end_median']:.2f} ms (median)"
            )
    return report


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    import faiss
    import torch

    torch_before, faiss_before = torch.get_num_threads(), faiss.omp_get_max_threads()
    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(torch_before)
        faiss.omp_set_num_threads(faiss_before)


def bench_model(
    model: Any,
    name: str,
    role: str,
    data: Any,
    doc_ids: Sequence[str],
    query_ids: Sequence[str],
    settings: BenchSettings,
    progress: bool = True,
) -> tuple[ModelBench, SearchIndex]:
    """Measure one model on every configured backend and precision.

    Returns the measurements and the faiss-hnsw float32 index that end-to-end latency is measured on.
    """
    say = _printer(progress, name)
    k = settings.k
    start = time.perf_counter()
    corpus = encode_texts(model, [data.corpus[i] for i in doc_ids], "document", settings.batch_size)
    corpus_encode_s = time.perf_counter() - start
    queries = encode_texts(model, [data.queries[q] for q in query_ids], "query", settings.batch_size)
    say(f"encoded {len(doc_ids)} documents in {corpus_encode_s:.1f}s and {len(query_ids)} queries")

    exact_index = SearchIndex.create(model, name, backend="faiss-flat", precision="float32")
    exact_index.add(doc_ids, corpus)
    exact_labels, exact_scores = exact_index.search_labels(queries, k)
    exact_run = ranked_run(query_ids, exact_labels, exact_scores, doc_ids)
    exact = retrieval_metrics(exact_run, data.qrels, k, per_query=True)
    say(f"exact search: nDCG@{k} {exact[f'ndcg_at_{k}']:.4f}")

    result = ModelBench(name, role, int(corpus.shape[1]), corpus_encode_s, exact, latency_ms={})
    latency_index: SearchIndex | None = None
    float_bytes: dict[str, float] = {}
    sweep = partial(
        _sweep,
        queries=queries,
        query_ids=query_ids,
        doc_ids=doc_ids,
        exact_labels=exact_labels,
        qrels=data.qrels,
        settings=settings,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ann-") as scratch:
        for backend in settings.backends:
            graph_options = {"m": settings.hnsw_m, "ef_construction": settings.hnsw_ef_construction}
            graph = {k: v for k, v in graph_options.items() if k in backend_options(backend)}
            for precision in sorted(settings.precisions, key=PRECISIONS.index):
                index = SearchIndex.create(
                    model,
                    name,
                    backend=backend,
                    precision=precision,
                    expected_count=len(doc_ids),
                    **graph,
                )
                start = time.perf_counter()
                index.add(doc_ids, corpus)
                build_s = time.perf_counter() - start
                index_bytes = index.index_bytes_per_vector
                if precision == "float32":
                    float_bytes[backend] = index_bytes
                for rescored, rescore_from in RESCORE_VARIANTS[precision]:
                    folder = Path(scratch) / f"{backend}-{precision}-{rescore_from}"
                    searched = _with_rescore_store(index, rescore_from, corpus, folder)
                    for rescore in settings.rescore if rescored else (0,):
                        keep_per_query = (backend, precision, rescore) == (
                            HNSW_BACKEND,
                            "float32",
                            0,
                        )
                        points = sweep(searched, backend, rescore, keep_per_query)
                        best = summary_point(points)
                        result.configs.append(
                            {
                                "backend": backend,
                                "precision": precision,
                                "rescore": rescore,
                                "rescore_from": rescore_from,
                                "build_s": build_s,
                                "code_bytes_per_vector": index.bytes_per_vector,
                                "index_bytes_per_vector": index_bytes,
                                "rescore_bytes_per_vector": searched.rescore_bytes_per_vector,
                                "memory_ratio_vs_float32": float_bytes[backend] / index_bytes
                                if backend in float_bytes
                                else None,
                                "points": points,
                                "summary_point": best,
                            }
                        )
                        say(
                            f"{backend} {precision} rescore={rescore} from {rescore_from}: build {build_s:.1f}s, "
                            f"{index_bytes:.0f} B/vector, kNN recall {best['knn_recall']:.3f}, "
                            f"nDCG {best[f'ndcg_at_{k}']:.4f}, {best['qps']:.0f} QPS"
                        )
                if backend == DEFAULT_BACKEND and precision == "float32":
                    latency_index = index
    if latency_index is None:
        latency_index = SearchIndex.create(model, name, backend=DEFAULT_BACKEND, precision="float32")
        latency_index.add(doc_ids, corpus)
    return result, latency_index


def _with_rescore_store(
    index: SearchIndex, rescore_from: str, corpus: np.ndarray, folder: Path
) -> SearchIndex:
    """``index`` itself, or a twin sharing its backend that rescores from a store saved in ``folder`` and
    memory-mapped back, as a loaded index would."""
    if rescore_from == "codes":
        return index
    store = RescoreStore(rescore_from, index.dimension)
    store.append(corpus)
    folder.mkdir(parents=True)
    store.save(folder)
    store = RescoreStore.load(folder, rescore_from, index.dimension)
    return SearchIndex(index.backend, index.model_ref, index.doc_ids, model=index.model, rescore_store=store)


def _sweep(
    index: SearchIndex,
    backend: str,
    rescore: int,
    keep_per_query: bool,
    queries: np.ndarray,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    exact_labels: np.ndarray,
    qrels: dict[str, dict[str, int]],
    settings: BenchSettings,
) -> list[dict[str, Any]]:
    """Quality and single-query QPS at each value of the backend's search parameter; restores its defaults.

    ``keep_per_query`` keeps each point's per-query nDCG (for the bootstrap interval of the HNSW-vs-exact ratio).
    """
    defaults = index.get_params()
    param, values = SWEEPS.get(backend, (None, (None,)))
    points = []
    for value in values:
        params = {param: value} if param else {}
        index.set_params(**params, rescore=rescore)
        labels, scores = index.search_labels(queries, settings.k)
        run = ranked_run(query_ids, labels, scores, doc_ids)
        quality = retrieval_metrics(run, qrels, settings.k, per_query=keep_per_query)
        timed = queries[: settings.timing_queries]
        start = time.perf_counter()
        for query in timed:
            index.search_labels(query[None, :], settings.k)
        elapsed = time.perf_counter() - start
        points.append(
            {
                "params": params,
                "knn_recall": knn_recall(labels, exact_labels),
                **quality,
                "qps": len(timed) / elapsed,
            }
        )
    index.set_params(**defaults)
    return points


def summary_point(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest point with k-NN recall >= TARGET_KNN_RECALL, else the one with the highest recall."""
    reaching = [point for point in points if point["knn_recall"] >= TARGET_KNN_RECALL]
    if reaching:
        return max(reaching, key=lambda point: point["qps"])
    return max(points, key=lambda point: (point["knn_recall"], point["qps"]))


def end_to_end_latency(
    searchers: Sequence[tuple[Any, SearchIndex]], texts: Sequence[str], settings: BenchSettings
) -> list[dict[str, Any]]:
    """Milliseconds to encode one query and search it, per (model, index), medians over
    ``settings.latency_queries`` queries.

    Models take turns on every query (in alternating order), so load changes on a shared machine hit
    all of them alike and their ratio stays fair.
    """
    texts = list(texts)[: settings.latency_queries + WARMUP_QUERIES]
    timings: list[dict[str, list[float]]] = [{"encode": [], "search": [], "total": []} for _ in searchers]
    for position, text in enumerate(texts):
        order = list(range(len(searchers)))
        for which in order if position % 2 == 0 else order[::-1]:
            model, index = searchers[which]
            start = time.perf_counter()
            vector = encode_texts(model, [text], "query")
            encoded = time.perf_counter()
            index.search_labels(vector, settings.k)
            done = time.perf_counter()
            if position >= WARMUP_QUERIES:
                timings[which]["encode"].append(1e3 * (encoded - start))
                timings[which]["search"].append(1e3 * (done - encoded))
                timings[which]["total"].append(1e3 * (done - start))
    return [
        {
            "backend": index.backend.name,
            "precision": index.precision,
            "params": index.get_params(),
            "queries": len(timing["total"]),
            "encode_median": statistics.median(timing["encode"]),
            "search_median": statistics.median(timing["search"]),
            "end_to_end_median": statistics.median(timing["total"]),
            "end_to_end_p90": float(np.percentile(timing["total"], 90)),
        }
        for (_, index), timing in zip(searchers, timings, strict=True)
    ]


def _environment() -> dict[str, Any]:
    import faiss
    import torch
    import usearch

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "usearch": usearch.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _printer(enabled: bool, name: str):
    import sys

    def say(message: str) -> None:
        if enabled:
            print(f"[bench-ann {name}] {message}", file=sys.stderr, flush=True)

    return say
