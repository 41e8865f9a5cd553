"""Benchmarks of end-to-end encoding speed, memory and size (``ternembed bench``).

Each variant (torch fp32 / bf16 / dynamic int8, ONNX Runtime dynamic int8 per tensor and per channel
with its default threading, the ternary reference path and the fast ternary path) lives in its own
worker process, so peak memory and thread pools never leak from one variant into another, while the
timed calls of all of them interleave in rounds.
"""

from ternembed.perf.bench import BenchSettings, run_bench
from ternembed.perf.variants import VARIANTS

__all__ = ["VARIANTS", "BenchSettings", "run_bench"]
