"""CPU facts read from /proc/cpuinfo, and their fallbacks where it cannot be read."""

from __future__ import annotations

import builtins

from ternembed.perf import cpu


def test_reads_name_and_bf16_flags_from_cpuinfo(tmp_path, monkeypatch):
    fake = tmp_path / "cpuinfo"
    fake.write_text(
        "processor\t: 0\nmodel name\t: Test CPU @ 2.6GHz\nflags\t\t: fpu avx512f amx_bf16 amx_tile\n"
    )
    real_open = builtins.open
    monkeypatch.setattr(
        builtins, "open", lambda path, *a, **k: real_open(fake if path == "/proc/cpuinfo" else path, *a, **k)
    )
    assert cpu.cpu_name() == "Test CPU @ 2.6GHz"
    assert cpu.has_native_bf16() is True
    fake.write_text("model name\t: Old CPU\nflags\t\t: fpu avx512f avx512_vnni\n")
    assert cpu.has_native_bf16() is False


def test_unknown_without_cpuinfo(monkeypatch):
    def missing(path, *args, **kwargs):
        raise FileNotFoundError(path)

    monkeypatch.setattr(builtins, "open", missing)
    assert cpu.has_native_bf16() is None
    assert isinstance(cpu.cpu_name(), str)
