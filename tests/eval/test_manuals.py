"""Manual pages and kernel documentation: parsing, the fixed held-out split, the out-of-domain tasks and
the general corpus that must never contain what those tasks score."""

from __future__ import annotations

import gzip

import pytest

from ternembed.data import general_corpus, manuals
from ternembed.eval import manual_tasks

BODY = "The {name} entry says {words}."


def _words(seed: str) -> str:
    """Thirty words no other document shares, so documents overlap only where a test makes them."""
    return " ".join(f"{seed}w{j}" for j in range(30))


def _page(name: str, summary: str, body: str) -> str:
    return (f'.\\" comment\n.TH {name.upper()} 3 2022\n.SH NAME\n{name} \\- {summary}\n.SH SYNOPSIS\n'
            f".B #include <string.h>\n.SH DESCRIPTION\n.PP\n\\fB{name}\\fR()\n{body}\n.SH SEE ALSO\n.BR other (3)\n")  # fmt: skip


@pytest.fixture
def documentation(tmp_path, monkeypatch):
    """Twelve manual pages (one a .so link) and a kernel folder of two documents, each of six sections."""
    man = tmp_path / "man" / "man3"
    man.mkdir(parents=True)
    for i in range(12):
        name = f"func{i}"
        (man / f"{name}.3.gz").write_bytes(gzip.compress(_page(name, f"summary number {i} of a page", BODY.format(name=name, words=_words(name))).encode()))
    (man / "alias.3").write_text(".so man3/func0.3\n")
    kernel = tmp_path / "Documentation"
    for folder in ("networking", "filesystems"):
        (kernel / folder).mkdir(parents=True)
        sections = "".join(
            f"Section title {folder} {i} here\n{'=' * 40}\n\n.. note:: skipped directive\n\n"
            f"The ``{folder}`` subsystem part {i} handles :ref:`things <x>` for the kernel "
            + BODY.format(name=folder, words=_words(f"{folder}{i}")) + "\n\n"
            for i in range(6)
        )
        (kernel / folder / "index.rst").write_text(sections)
    monkeypatch.setenv(manuals.MANPAGES_ENV, str(tmp_path / "man"))
    monkeypatch.setenv(manuals.KERNEL_DOCS_ENV, str(kernel))
    return tmp_path


def test_manual_pages_give_summary_and_plain_description_and_skip_links(documentation):
    pages = manuals.manual_pages()
    assert len(pages) == 12 and all(p.group == "3" for p in pages)
    first = next(p for p in pages if p.key == "man:func0.3")
    assert first.title == "summary number 0 of a page"
    assert first.body.startswith("func0() The func0 entry says func0w0") and "\\f" not in first.body


def test_kernel_sections_are_titled_and_stripped_of_markup(documentation):
    sections = manuals.kernel_sections()
    assert len(sections) == 12 and {s.group for s in sections} == {"networking", "filesystems"}
    section = next(s for s in sections if s.key == "kernel:networking/index.rst#Section title networking 0 here")
    assert section.body.startswith("The networking subsystem part 0 handles things for the kernel The networking entry")
    assert "skipped directive" not in section.body and "``" not in section.body


def test_held_out_split_is_fixed_and_about_half():
    keys = [f"man:page{i}.3" for i in range(2000)]
    held = [k for k in keys if manuals.is_held_out(k)]
    assert 900 < len(held) < 1100 and held == [k for k in keys if manuals.is_held_out(k)]


def test_retrieval_tasks_score_only_held_out_documents(documentation):
    data = manual_tasks.build_manpage_retrieval(size="quick")
    held_titles = {p.title for p in manuals.manual_pages() if manuals.is_held_out(p.key)}
    assert data.queries and set(data.queries.values()) <= held_titles
    for relevant in data.qrels.values():
        (doc_id,) = relevant
        assert doc_id in data.corpus
    kernel = manual_tasks.build_kernel_retrieval(size="quick")
    assert set(kernel.queries.values()) <= {s.title for s in manuals.kernel_sections() if manuals.is_held_out(s.key)}


def test_general_corpus_excludes_every_held_out_text(documentation, monkeypatch):
    held = [d for d in manuals.manual_pages() + manuals.kernel_sections() if manuals.is_held_out(d.key)]
    assert held
    # A training-side text that copies 8+ words of a held-out document must be dropped too.
    leaked = "as written: " + " ".join(held[0].body.split()[:10])
    monkeypatch.setitem(general_corpus.SOURCES, "definitions", lambda: ["a plain unrelated definition of a word", leaked])
    monkeypatch.setattr(general_corpus, "INFO_DIR", documentation / "no-info")
    monkeypatch.setattr(general_corpus, "INCLUDE_DIR", documentation / "no-include")
    monkeypatch.setattr("ternembed.data.wordnet.evaluation_texts", lambda: [])
    texts, report = general_corpus.build()
    assert "a plain unrelated definition of a word" in texts and leaked not in texts
    joined = "\n".join(texts)
    for document in held:
        assert document.title not in texts
        assert " ".join(document.body.split()[:12]) not in joined
    assert report.sources["manuals"] > 0 and report.dropped_overlap >= 1
    assert set(report.skipped) == {"info", "code-comments"}
    assert all(general_corpus.bucket_of(t) for t in texts)


def test_sampling_keeps_the_bucket_shares():
    items = [("s", "word " * 5)] * 0 + [("s", f"short text {i}") for i in range(500)]
    items += [("m", " ".join(["medium"] * 20) + f" {i}") for i in range(500)]
    items += [("l", " ".join(["long"] * 60) + f" {i}") for i in range(500)]
    sample = general_corpus._sample_by_bucket(items, 100, seed=0)
    counts = {b: sum(general_corpus.bucket_of(t) == b for _, t in sample) for b in general_corpus.BUCKETS}
    assert counts == {"short": 30, "medium": 40, "long": 30}
