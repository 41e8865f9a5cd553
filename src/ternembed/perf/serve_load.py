"""Load test of ``ternembed serve`` on loopback (``ternembed bench-serve``).

Each server under test (a model, batching on or off) runs as its own ``ternembed serve`` process on a
free loopback port, all of them up for the whole run and measured scenario by scenario in turn; the
load comes from this process with ``httpx`` (asyncio), a fixed number of
concurrent clients each sending its next request as soon as the previous one is answered. Every
scenario is bounded both in requests and in seconds. Latency is measured per request on the client:
tokenization, queueing, batching, inference and HTTP included.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ternembed.errors import TernembedError
from ternembed.perf.worker import status_mb

HEALTH_TIMEOUT_S = 300.0


class ServeBenchError(TernembedError, RuntimeError):
    """A server under test did not start or failed during the load test."""


@dataclass(frozen=True)
class ServerSpec:
    """One server under test: a label for the report, the model, and whether requests are batched."""

    label: str
    model: str
    batching: bool = True
    indexes: tuple[tuple[str, str], ...] = ()
    """``(name, folder)`` pairs served for the search scenario (built with this model)."""


@dataclass
class ServeBenchSettings:
    """What ``ternembed bench-serve`` measures.

    Attributes:
        servers: the servers, all up at once; each scenario runs on them in turn.
        texts: request texts, cycled through.
        out: folder for serve_bench.json, serve_bench.md and serve_bench.png.
        concurrency: concurrent clients per scenario.
        texts_per_request: inputs per ``/v1/embeddings`` request.
        requests: the most requests per scenario.
        seconds: the most seconds per scenario (whichever bound is hit first).
        threads: ``--threads`` of every server.
        search_k: ``k`` of the search scenario.
    """

    servers: Sequence[ServerSpec]
    texts: Sequence[str]
    out: Path
    concurrency: tuple[int, ...] = (1, 8, 64)
    texts_per_request: tuple[int, ...] = (1, 32)
    requests: int = 2000
    seconds: float = 20.0
    threads: int = 2
    search_k: int = 10
    comparisons: tuple[tuple[str, str], ...] = ()
    """``(server, against)`` label pairs whose throughput and p99 are compared scenario by scenario."""


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(process: subprocess.Popen, url: str, timeout_s: float) -> None:
    """Return once ``url``'s ``/health`` answers 200; ServeBenchError if the process exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServeBenchError(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise ServeBenchError(f"the server did not answer /health within {timeout_s:.0f} s")


class ServerProcess:
    """``ternembed serve`` on a free loopback port, ready once ``/health`` answers; stopped with SIGTERM."""

    def __init__(self, spec: ServerSpec, threads: int) -> None:
        self.spec = spec
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "ternembed.cli.main", "serve", spec.model, "--port", str(port),
                   "--threads", str(threads), "--batching", "on" if spec.batching else "off"]  # fmt: skip
        for name, folder in spec.indexes:
            command += ["--index", f"{name}={folder}"]
        self._log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, text=True)
        try:
            wait_until_healthy(self.process, self.url, HEALTH_TIMEOUT_S)
        except ServeBenchError as error:
            self._log.seek(0)
            lines = self._log.read().strip().splitlines()
            self.stop()
            said = f" ({lines[-1].strip()})" if lines else ""
            raise ServeBenchError(f"server {spec.label}: {error}{said}") from None

    def peak_rss_mb(self) -> float | None:
        """The server process's peak resident memory so far (Linux), or None."""
        try:
            return status_mb("VmHWM", self.process.pid)
        except OSError:
            return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


async def _drive(url: str, bodies: Sequence[dict], path: str, concurrency: int, requests: int,
                 seconds: float) -> tuple[list[float], int, float]:  # fmt: skip
    """Latencies (ms) of successful requests, the count of failed ones, and the wall time."""
    import httpx

    latencies: list[float] = []
    failures = 0
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.perf_counter()
    deadline = started + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent, failures
        while sent < requests and time.perf_counter() < deadline:
            body = bodies[sent % len(bodies)]
            sent += 1
            began = time.perf_counter()
            try:
                response = await http.post(path, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                latencies.append((time.perf_counter() - began) * 1e3)
            else:
                failures += 1

    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    return latencies, failures, time.perf_counter() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _scenario_row(server: ServerProcess, endpoint: str, concurrency: int, texts_per_request: int,
                  bodies: Sequence[dict], settings: ServeBenchSettings) -> dict:  # fmt: skip
    warm = asyncio.run(_drive(server.url, bodies, endpoint, min(concurrency, 4), 8, settings.seconds))
    if warm[1]:
        raise ServeBenchError(f"server {server.spec.label}: {warm[1]} of the warm-up requests to {endpoint} failed")
    latencies, failures, wall = asyncio.run(
        _drive(server.url, bodies, endpoint, concurrency, settings.requests, settings.seconds)
    )
    if not latencies:
        raise ServeBenchError(f"server {server.spec.label}: every request to {endpoint} failed")
    return {
        "server": server.spec.label, "model": server.spec.model, "batching": server.spec.batching,
        "endpoint": endpoint, "concurrency": concurrency, "texts_per_request": texts_per_request,
        "requests": len(latencies), "failed": failures, "seconds": wall,
        "requests_per_s": len(latencies) / wall, "texts_per_s": len(latencies) * texts_per_request / wall,
        "p50_ms": statistics.median(latencies), "p95_ms": _percentile(latencies, 0.95),
        "p99_ms": _percentile(latencies, 0.99),
    }  # fmt: skip


def _scenarios(servers: list[ServerProcess], settings: ServeBenchSettings, log):  # noqa: ANN001, ANN202
    """(endpoint, concurrency, texts per request, bodies, server) in the order they run: each scenario
    on every server that can run it, one after another, the servers' order rotating from one scenario
    to the next."""
    turn = 0
    for per_request in settings.texts_per_request:
        bodies = _embedding_bodies(settings.texts, per_request)
        for concurrency in settings.concurrency:
            log(f"/v1/embeddings, {per_request} text(s) per request, concurrency {concurrency}")
            shift, turn = turn % len(servers), turn + 1
            for server in servers[shift:] + servers[:shift]:
                yield "/v1/embeddings", concurrency, per_request, bodies, server
    for server in servers:
        for name, _ in server.spec.indexes:
            bodies = [{"index": name, "queries": [text], "k": settings.search_k} for text in settings.texts]
            for concurrency in settings.concurrency:
                log(f"{server.spec.label}: /v1/search on {name}, concurrency {concurrency}")
                yield "/v1/search", concurrency, 1, bodies, server


def _embedding_bodies(texts: Sequence[str], per_request: int) -> list[dict]:
    count = max(len(texts) // per_request, 1) * per_request
    cycled = [texts[i % len(texts)] for i in range(count)]
    return [{"input": cycled[i : i + per_request]} for i in range(0, count, per_request)]


def run_serve_bench(settings: ServeBenchSettings, log=print) -> dict:  # noqa: ANN001 - a print-like callable
    """Measure every server on every scenario; write serve_bench.json, .md and .png into ``settings.out``.

    All servers are started first and stay up; each scenario then runs on every server in turn, so a
    drift of the machine over the run spreads over all servers instead of favouring one.
    """
    servers: list[ServerProcess] = []
    try:
        for spec in settings.servers:
            log(f"starting {spec.label} ...")
            servers.append(ServerProcess(spec, settings.threads))
        rows = [_scenario_row(server, endpoint, concurrency, per_request, bodies, settings)
                for endpoint, concurrency, per_request, bodies, server in _scenarios(servers, settings, log)]  # fmt: skip
        memory = {server.spec.label: server.peak_rss_mb() for server in servers}
    finally:
        for server in servers:
            server.stop()
    result = {
        "servers": [{"label": s.label, "model": s.model, "batching": s.batching, "peak_rss_mb": memory.get(s.label)}
                    for s in settings.servers],
        "threads": settings.threads, "requests_per_scenario": settings.requests,
        "seconds_per_scenario": settings.seconds, "rows": rows, "ratios": ratios(rows, settings.comparisons),
        "command": " ".join(["ternembed", *sys.argv[1:]]) if sys.argv[0].endswith("ternembed") else None,
    }  # fmt: skip
    settings.out.mkdir(parents=True, exist_ok=True)
    (settings.out / "serve_bench.json").write_text(json.dumps(result, indent=2) + "\n")
    (settings.out / "serve_bench.md").write_text(markdown(result))
    write_chart(result, settings.out / "serve_bench.png")
    return result


def ratios(rows: list[dict], comparisons: Sequence[tuple[str, str]]) -> list[dict]:
    """For each ``(server, against)`` pair and each scenario both ran: throughput and p99 latency as
    factors in the first server's favour (throughput its / the other's, p99 the other's / its)."""
    by_key = {(r["server"], r["endpoint"], r["concurrency"], r["texts_per_request"]): r for r in rows}
    found = []
    for label, against in comparisons:
        for (server, endpoint, concurrency, per_request), row in by_key.items():
            base = by_key.get((against, endpoint, concurrency, per_request))
            if server != label or base is None:
                continue
            found.append({"server": label, "against": against, "endpoint": endpoint, "concurrency": concurrency,
                          "texts_per_request": per_request,
                          "throughput_x": row["requests_per_s"] / base["requests_per_s"],
                          "p99_x": base["p99_ms"] / row["p99_ms"]})  # fmt: skip
    return found


def markdown(result: dict) -> str:
    """The rows as a table, then the ratios against the first server."""
    lines = [f"# ternembed serve under load ({result['threads']} threads per server, loopback)", "",
             "| server | batching | endpoint | texts/request | concurrency | req/s | texts/s | p50 ms | p95 ms | p99 ms | failed |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in result["rows"]:
        lines.append(
            f"| {r['server']} | {'on' if r['batching'] else 'off'} | {r['endpoint']} | {r['texts_per_request']} | "
            f"{r['concurrency']} | {r['requests_per_s']:.1f} | {r['texts_per_s']:.1f} | {r['p50_ms']:.2f} | "
            f"{r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {r['failed']} |"
        )
    if result["ratios"]:
        lines += ["", "Factors in the first server's favour, same scenario (throughput: its / the other's; "
                  "p99 latency: the other's / its):", "",
                  "| server | against | endpoint | texts/request | concurrency | throughput x | p99 x |",
                  "|---|---|---|---:|---:|---:|---:|"]  # fmt: skip
        for r in result["ratios"]:
            lines.append(f"| {r['server']} | {r['against']} | {r['endpoint']} | {r['texts_per_request']} | "
                         f"{r['concurrency']} | {r['throughput_x']:.2f} | {r['p99_x']:.2f} |")  # fmt: skip
    memory = [f"{s['label']} {s['peak_rss_mb']:.0f} MB" for s in result["servers"] if s["peak_rss_mb"]]
    if memory:
        lines += ["", "Peak server memory: " + ", ".join(memory) + "."]
    return "\n".join(lines) + "\n"


def write_chart(result: dict, path: Path) -> None:
    """Requests per second against concurrency, one line per server and embeddings request size."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    figure, axis = plt.subplots(figsize=(7, 4))
    series: dict[str, list[tuple[int, float]]] = {}
    for r in result["rows"]:
        label = f"{r['server']} {r['endpoint']} x{r['texts_per_request']}"
        series.setdefault(label, []).append((r["concurrency"], r["requests_per_s"]))
    for label, points in series.items():
        points.sort()
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    axis.set_xscale("log")
    axis.set_xlabel("concurrent clients")
    axis.set_ylabel("requests / s")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
