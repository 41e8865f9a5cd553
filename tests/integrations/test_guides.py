"""The Python example of each integration guide (docs/guide/*.md) runs as written, on a tiny model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guide"
DOCUMENTED_MODEL = '"minilm-ternary"'


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.mark.parametrize("page", ["chroma.md", "lancedb.md", "qdrant.md"])
def test_guide_example_runs(page, tiny_ternary_dir, tmp_path, monkeypatch, capsys):
    (code,) = python_blocks(GUIDES / page)
    assert DOCUMENTED_MODEL in code
    monkeypatch.chdir(tmp_path)
    exec(
        compile(code.replace(DOCUMENTED_MODEL, repr(tiny_ternary_dir)), page, "exec", dont_inherit=True),
        {"__name__": "guide"},
    )
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) >= 3 and any(path.is_dir() for path in tmp_path.iterdir())
