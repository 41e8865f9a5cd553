"""The package loads its public names on first use: the command line starts without torch, and every
exported name is the exported object even after a submodule of the same name was imported."""

from __future__ import annotations

import subprocess
import sys


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_command_line_parses_arguments_without_importing_torch():
    code = ("import sys; sys.argv = ['ternembed']; from ternembed.cli.main import build_parser; "
            "build_parser(['index']); build_parser(['search']); print('torch' in sys.modules)")  # fmt: skip
    assert _run(code) == "False"


def test_library_import_still_registers_with_transformers():
    code = ("import ternembed; from transformers.quantizers.auto import AUTO_QUANTIZER_MAPPING; "
            "print('ternembed' in AUTO_QUANTIZER_MAPPING)")  # fmt: skip
    assert _run(code) == "True"


def test_exported_names_win_over_submodules_of_the_same_name():
    code = ("import ternembed.distill.arguments, ternembed.io.load, ternembed.io.save, ternembed; "
            "from ternembed.io import load, save; "
            "print(callable(ternembed.distill), callable(load), callable(save), callable(ternembed.io.load))")  # fmt: skip
    assert _run(code) == "True True True True"


def test_unknown_names_are_attribute_errors_and_dir_lists_the_exports():
    code = ("import ternembed, ternembed.index as index\n"
            "try:\n    ternembed.nope\nexcept AttributeError as error:\n    print(error)\n"
            "print('SearchIndex' in dir(index), 'load' in dir(ternembed))")  # fmt: skip
    assert _run(code).splitlines() == ["module 'ternembed' has no attribute 'nope'", "True True"]
