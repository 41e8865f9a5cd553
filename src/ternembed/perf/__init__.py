"""Benchmarks of end-to-end encoding speed, memory and size (``ternembed bench``).

Each variant (torch fp32 / bf16 / dynamic int8, ONNX Runtime int8, the ternary reference path and the
fast ternary path) is measured in its own subprocess, so peak memory and thread pools never leak
from one variant into another.
"""

from ternembed.perf.bench import BenchSettings, run_bench
from ternembed.perf.variants import VARIANTS

__all__ = ["VARIANTS", "BenchSettings", "run_bench"]
