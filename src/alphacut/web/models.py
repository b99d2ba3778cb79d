"""Which models a page may run, and what it is told about each (spec, licence, URL).

The page gets ``ModelSpec.to_dict()`` plus a licence notice and whether the licence is
copyleft: sending AGPL/GPL weights to a browser is distribution, so the page asks first.
"""

from __future__ import annotations

from typing import Any

from alphacut.models.spec import ModelSpec

PAGE_MODELS = ("u2netp", "u2net", "modnet", "isnet-general-q")
"""The models the page offers, default first."""
DEFAULT_PAGE_MODEL = "u2netp"

COPYLEFT_PREFIXES = ("AGPL", "GPL", "LGPL")

LICENSE_URLS = {
    "Apache-2.0": "https://www.apache.org/licenses/LICENSE-2.0",
    "MIT": "https://opensource.org/licenses/MIT",
    "AGPL-3.0": "https://www.gnu.org/licenses/agpl-3.0.html",
    "GPL-3.0": "https://www.gnu.org/licenses/gpl-3.0.html",
}


def is_copyleft(license_id: str) -> bool:
    """Whether handing these weights to someone is distribution under a copyleft licence."""
    return license_id.upper().startswith(COPYLEFT_PREFIXES)


def license_notice(spec: ModelSpec) -> str:
    """A plain-text licence notice for ``spec``'s weights (shipped beside them)."""
    url = LICENSE_URLS.get(spec.license, "")
    lines = [f"Model: {spec.name} ({spec.family}) - {spec.description}".rstrip(" -"),
             f"Weights licence: {spec.license}" + (f" ({url})" if url else ""),
             f"Weights file sha256: {spec.sha256 or 'unpinned'}",
             "Sources:", *[f"  - {s.describe()}" for s in spec.sources]]
    if is_copyleft(spec.license):
        lines += ["", f"These weights are under {spec.license}: whoever serves them to a browser "
                  "distributes them and must offer their source and licence terms to the "
                  "people who receive them."]
    return "\n".join(lines) + "\n"


def page_spec(spec: ModelSpec, onnx_url: str) -> dict[str, Any]:
    """What the page's worker reads: the spec, where the weights are, and the licence."""
    data = spec.to_dict()
    data["onnx_url"] = onnx_url
    data["copyleft"] = is_copyleft(spec.license)
    data["license_url"] = LICENSE_URLS.get(spec.license, "")
    data["license_notice"] = license_notice(spec)
    return data
