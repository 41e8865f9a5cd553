"""Build the optional C library of fast ternary kernels (loaded with ctypes, no Python or torch headers).

Everything else about the package lives in pyproject.toml. The extension is optional: without a C
compiler the install still succeeds and ternembed falls back to the pure-torch reference kernels.
"""

import sys

from setuptools import Extension, setup

CSRC = "src/ternembed/kernels/csrc"
SOURCES = ["api.c", "thread_pool.c", "portable.c", "avx512.c", "amx.c", "encoder.c", "encoder_ops.c", "embeddings.c"]

if sys.platform == "win32":
    compile_args: list[str] = ["/O2"]
    link_args: list[str] = []
else:
    compile_args = ["-O3", "-std=c11", "-pthread", "-fvisibility=default", "-Wno-unused-parameter"]
    link_args = ["-pthread", "-lm"]

setup(
    ext_modules=[
        Extension(
            "ternembed.kernels._ternary_native",
            sources=[f"{CSRC}/{name}" for name in SOURCES],
            depends=[f"{CSRC}/ternary_kernels.h", f"{CSRC}/portable_body.h", f"{CSRC}/simd_math.h"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            optional=True,
        )
    ]
)
