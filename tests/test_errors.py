"""Every error class ternembed defines (warnings aside) derives from TernembedError and keeps its builtin base."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil

import pytest

import ternembed
from ternembed.cli import main as cli_main
from ternembed.errors import TernembedError
from ternembed.kernels.native import KernelLibraryError


def _error_classes() -> list[type[BaseException]]:
    found = []
    for module_info in pkgutil.walk_packages(ternembed.__path__, prefix="ternembed."):
        if not importlib.util.find_spec(module_info.name).origin.endswith(".py"):
            continue  # the compiled kernel library, loaded through ctypes
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Exception) and not issubclass(value, Warning) and value.__module__ == module.__name__:
                found.append(value)
    return found


def test_every_error_class_in_the_package_derives_from_ternembed_error():
    classes = _error_classes()
    assert len(classes) > 40, [c.__name__ for c in classes]
    outside = [f"{c.__module__}.{c.__name__}" for c in classes if not issubclass(c, TernembedError)]
    assert outside == []


def test_builtin_bases_are_kept():
    from ternembed.io.errors import ModelFolderNotFoundError
    from ternembed.io.output_folder import ForeignFolderError

    assert issubclass(ModelFolderNotFoundError, FileNotFoundError)
    assert issubclass(ForeignFolderError, FileExistsError)
    assert issubclass(KernelLibraryError, RuntimeError)
    assert ternembed.TernembedError is TernembedError


def _info_raising(error: BaseException, monkeypatch) -> int:
    """Run ``ternembed info`` with a handler that raises ``error``; the exit code."""
    monkeypatch.delenv("TERNEMBED_DEBUG", raising=False)
    parser = cli_main.build_parser()
    parse = parser.parse_args

    def parse_args(argv=None):
        args = parse(argv)

        def handler(_args):
            raise error

        args.handler = handler
        return args

    parser.parse_args = parse_args
    monkeypatch.setattr(cli_main, "build_parser", lambda argv=None: parser)
    return cli_main.main(["info", "some-folder"])


def test_cli_reports_any_ternembed_error_as_one_line(monkeypatch, capsys):
    """A RuntimeError-based error of ours is a message and exit code 2, not a traceback."""
    assert _info_raising(KernelLibraryError("the kernel library could not be loaded"), monkeypatch) == 2
    assert capsys.readouterr().err == "ternembed info: error: the kernel library could not be loaded\n"


def test_cli_lets_a_bug_through_as_a_traceback(monkeypatch):
    """Errors that are not ours and not user input (here a KeyError) are not hidden behind one line."""
    with pytest.raises(KeyError):
        _info_raising(KeyError("internal"), monkeypatch)


def test_cli_marks_a_value_error_that_is_not_ours_as_unexpected(monkeypatch, capsys):
    """A library's ValueError is still one line, but says it is unexpected and how to see where it came from."""
    assert _info_raising(ValueError("could not convert string to float: 'x'"), monkeypatch) == 2
    error = capsys.readouterr().err
    assert error.startswith("ternembed info: error: could not convert string to float: 'x' (unexpected ValueError")
    assert error.count("\n") == 1
