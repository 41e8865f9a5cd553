"""Fixtures of the distillation tests: a small synthetic corpus and a CLI runner."""

from __future__ import annotations

import itertools

import pytest

SUBJECTS = ["the cat", "a dog", "my neighbour", "the old sailor", "a small bird", "the teacher"]
VERBS = ["watches", "follows", "paints", "ignores", "feeds"]
OBJECTS = ["the river", "a red car", "the quiet garden", "an empty street", "the morning train"]


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory) -> str:
    """150 distinct short sentences, one per line."""
    texts = [" ".join(parts) for parts in itertools.product(SUBJECTS, VERBS, OBJECTS)]
    path = tmp_path_factory.mktemp("corpus") / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture()
def run_cli(capsys):
    """Run ``ternembed ARGS...`` in-process; returns (exit code, stderr)."""
    from ternembed.cli.main import main

    def run(*args: str) -> tuple[int, str]:
        code = main([str(a) for a in args])
        return code, capsys.readouterr().err

    return run
