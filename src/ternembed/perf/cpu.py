"""What the host CPU is and which of the instructions that matter to us it has (Linux /proc/cpuinfo)."""

from __future__ import annotations

import platform

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo_value(key: str) -> str | None:
    """The first ``key : value`` of /proc/cpuinfo, or None where there is no such file or key."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.split(":", 1)[0].strip() == key:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_name() -> str:
    """The CPU's model name, or the platform's best guess off Linux."""
    return _cpuinfo_value("model name") or platform.processor() or platform.machine()


def has_native_bf16() -> bool | None:
    """True if the CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16), False if it emulates it,
    None where the flags cannot be read."""
    flags = _cpuinfo_value("flags")
    if flags is None:
        return None
    return any(flag in flags.split() for flag in NATIVE_BF16_FLAGS)
