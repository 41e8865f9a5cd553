"""Readers of offline technical documentation: Linux manual pages and the kernel's documentation.

Two sources, both installed from Debian and fixed by package version:

- manual pages of the ``manpages`` and ``manpages-dev`` packages (sections 2-7: system calls, C
  library, devices, file formats, overviews), read from the packages' file lists so the set does not
  depend on what else the machine has installed; each page gives its NAME summary and its DESCRIPTION;
- the kernel documentation of ``linux-doc`` (reStructuredText under
  ``/usr/share/doc/linux-doc/Documentation``), split into titled sections.

Every document has a stable key, and :func:`is_held_out` splits keys once and for all: held-out
documents are what the out-of-domain evaluation scores, and training corpora take only the others.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ternembed.errors import TernembedError

MANPAGE_PACKAGES = ("manpages", "manpages-dev")
MANPAGE_SECTIONS = ("2", "3", "4", "5", "7")
DPKG_INFO = Path("/var/lib/dpkg/info")
KERNEL_DOCS_ENV = "TERNEMBED_KERNEL_DOCS"
"""Environment variable that overrides the kernel documentation folder (default below)."""
DEFAULT_KERNEL_DOCS = Path("/usr/share/doc/linux-doc/Documentation")
MANPAGES_ENV = "TERNEMBED_MANPAGES"
"""Environment variable naming a folder of ``manN/*.N[.gz]`` pages to read instead of the packages'."""

_FONT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)")
_NAMED_CHAR = re.compile(r"\\\((..)|\\\[([^\]]*)\]")
_CHARS = {"em": "-", "en": "-", "mi": "-", "hy": "-", "aq": "'", "dq": '"', "lq": '"', "rq": '"',
          "oq": "'", "cq": "'", "bu": "*", "co": "(c)", "rg": "(R)", "tm": "(TM)", "<=": "<=", ">=": ">=",
          "mu": "x", "ti": "~", "ha": "^", "rs": "\\", "ga": "`"}  # fmt: skip
_TEXT_MACROS = {"B", "I", "BR", "BI", "IB", "IR", "RB", "RI", "SM", "SB", "UR", "MT", "Nm", "Nd", "Xr", "Pa"}
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+_.:])\1{2,}\s*$")
_RST_ROLE = re.compile(r":[\w:+-]+:`([^`<]*?)(?:\s*<[^>]*>)?`")
_RST_LINK = re.compile(r"`([^`<]*?)(?:\s*<[^>]*>)?`_{1,2}")
_RST_LITERAL = re.compile(r"``([^`]*)``")
_SPACES = re.compile(r"\s+")


class ManualsNotFoundError(TernembedError, FileNotFoundError):
    """The documentation packages are not installed."""


@dataclass(frozen=True)
class ManualDocument:
    """One titled document: a manual page or a kernel documentation section.

    Attributes:
        key: stable identifier (``man:open.2``, ``kernel:filesystems/ext4.rst#Mount options``).
        title: the one-line summary (a page's NAME line) or the section heading.
        body: plain text of the page's DESCRIPTION or the section.
        group: the manual section (``2``) or the top-level kernel documentation folder (``networking``).
    """

    key: str
    title: str
    body: str
    group: str


def is_held_out(key: str) -> bool:
    """True for the fixed half of document keys that evaluation scores and training never sees."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0


def manual_pages() -> list[ManualDocument]:
    """Pages of :data:`MANPAGE_PACKAGES` with a NAME summary and a DESCRIPTION, sorted by key."""
    pages = []
    for path in _manpage_files():
        page = _read_manpage(path)
        if page is not None:
            pages.append(page)
    return sorted(pages, key=lambda page: page.key)


def kernel_sections(root: str | os.PathLike | None = None) -> list[ManualDocument]:
    """Titled sections of the kernel documentation (reStructuredText), sorted by key."""
    folder = Path(root or os.environ.get(KERNEL_DOCS_ENV) or DEFAULT_KERNEL_DOCS)
    if not folder.is_dir():
        raise ManualsNotFoundError(
            f"no kernel documentation in {folder}: install the Debian package linux-doc "
            f"(or point {KERNEL_DOCS_ENV} at a Documentation folder)"
        )
    sections = []
    for path in sorted(folder.rglob("*.rst*")):
        if path.suffixes[-1:] not in ([".rst"], [".gz"]) or ".rst" not in path.suffixes:
            continue
        relative = path.relative_to(folder).as_posix().removesuffix(".gz")
        group = relative.split("/")[0] if "/" in relative else "top"
        for title, body in _rst_sections(_read_text(path)):
            sections.append(ManualDocument(f"kernel:{relative}#{title}", title, body, group))
    return sorted({s.key: s for s in sections}.values(), key=lambda s: s.key)


def _manpage_files() -> list[Path]:
    override = os.environ.get(MANPAGES_ENV)
    if override:
        root = Path(override)
        return sorted(p for s in MANPAGE_SECTIONS for p in (root / f"man{s}").glob(f"*.{s}*") if p.is_file())
    lists = [DPKG_INFO / f"{package}.list" for package in MANPAGE_PACKAGES]
    if not all(path.is_file() for path in lists):
        raise ManualsNotFoundError(
            "the manual pages are not installed: install the Debian packages manpages and manpages-dev "
            f"(or point {MANPAGES_ENV} at a folder of manN/ pages)"
        )
    files = set()
    for listing in lists:
        for line in listing.read_text().splitlines():
            match = re.fullmatch(r"/usr/share/man/man(\d)/[^/]+\.\d\w*(?:\.gz)?", line.strip())
            if match and match.group(1) in MANPAGE_SECTIONS and Path(line).is_file():
                files.add(Path(line.strip()))
    return sorted(files)


def _read_text(path: Path) -> str:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", errors="replace")


def _read_manpage(path: Path) -> ManualDocument | None:
    """The NAME summary and DESCRIPTION of one page; None for links (``.so``) and pages lacking either."""
    text = _read_text(path)
    if text.lstrip().startswith(".so "):
        return None
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith((".SH", ".Sh")):
            current = _roff_text(line[3:]).strip().strip('"').upper()
            sections.setdefault(current, [])
        elif current is not None:
            rendered = _roff_line(line)
            if rendered:
                sections[current].append(rendered)
    name = " ".join(sections.get("NAME", []))
    description = _SPACES.sub(" ", " ".join(sections.get("DESCRIPTION", []))).strip()
    if " - " not in name or len(description.split()) < 20:
        return None
    summary = name.split(" - ", 1)[1].strip()
    stem = path.name.removesuffix(".gz")
    section = stem.rsplit(".", 1)[1][:1]
    return ManualDocument(f"man:{stem}", summary, description, section)


def _roff_line(line: str) -> str:
    """Plain text of one roff line: comments and layout requests dropped, font and text macros unwrapped."""
    if line.startswith(('.\\"', "'\\\"", '\\"')):
        return ""
    if line.startswith((".", "'")):
        macro, _, rest = line[1:].partition(" ")
        if macro not in _TEXT_MACROS:
            return ""
        line = " ".join(part.strip('"') for part in rest.split())
    return _roff_text(line)


def _roff_text(text: str) -> str:
    text = _FONT.sub("", text)
    text = _NAMED_CHAR.sub(lambda m: _CHARS.get(m.group(1) or m.group(2), ""), text)
    text = text.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\").replace("\\ ", " ")
    text = re.sub(r"\\[|^%c/,]", "", text)
    return re.sub(r"\\\*(?:\(..|\[[^\]]*\]|.)", "", text).strip()


def _rst_sections(text: str) -> Iterator[tuple[str, str]]:
    """(heading, plain body) of each section of a reStructuredText document."""
    lines = text.splitlines()
    title, body = None, []
    index = 0
    while index < len(lines):
        line = lines[index]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and not _RST_UNDERLINE.match(line) and _RST_UNDERLINE.match(following) \
                and len(following.strip()) >= len(line.strip()):  # fmt: skip
            if title is not None:
                yield title, _rst_plain(body)
            title, body = _rst_plain([line]), []
            index += 2
            continue
        if not _RST_UNDERLINE.match(line):
            body.append(line)
        index += 1
    if title is not None:
        yield title, _rst_plain(body)


def _rst_plain(lines: list[str]) -> str:
    kept = [line for line in lines if not line.lstrip().startswith(("..", ":"))]
    text = " ".join(kept).replace("::", ":")
    text = _RST_ROLE.sub(r"\1", text)
    text = _RST_LINK.sub(r"\1", text)
    text = _RST_LITERAL.sub(r"\1", text)
    text = text.replace("**", "").replace("*", "")
    return _SPACES.sub(" ", text).strip()
