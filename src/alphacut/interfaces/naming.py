"""Output names for a batch: the ``--name`` template checked, filled and planned up front.

Every name is planned before anything is written, so no output can overwrite another and no
template can write outside the output folder. Light on purpose (stdlib only).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from alphacut.errors import InvalidOption

if TYPE_CHECKING:
    from alphacut.interfaces.jobs import Job

TEMPLATE_FIELDS = ("stem", "name", "ext", "parent", "model", "relparent")
FILE_FIELDS = frozenset({"stem", "name"})  # differ for every input file
NAME_MAX = 255  # bytes in one path component (ext4, APFS, NTFS)
TEMPLATE_MAX = 1024  # characters
_SPEC = re.compile(r"(?:.?[<>^])?(?P<width>\d*)(?:\.(?P<precision>\d+))?s?", re.DOTALL)


@dataclass(frozen=True)
class Template:
    """A checked ``--name`` template and the fields it uses."""

    text: str
    fields: frozenset[str]


def check_template(template: str) -> Template:
    """``template`` checked (braces, fields, format specs, length, relative), or InvalidOption."""
    if not isinstance(template, str) or not template.strip():
        raise InvalidOption("--name must be a non-empty template such as '{stem}.{ext}'")
    if len(template) > TEMPLATE_MAX:
        raise InvalidOption(f"--name is {len(template)} characters long; at most {TEMPLATE_MAX}")
    if "\0" in template:
        raise InvalidOption("--name must not contain a NUL character")
    if os.path.isabs(template) or template.startswith("~"):
        raise InvalidOption(f"--name {template!r} is an absolute path; names are relative to -o")
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InvalidOption(f"--name {template!r}: {exc} (write {{{{ or }}}} for a literal "
                            "brace)") from exc
    fields: set[str] = set()
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise InvalidOption(f"--name {template!r}: unknown field {{{field}}}; valid: "
                                f"{', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")
        if conversion is not None:
            raise InvalidOption(f"--name {template!r}: conversions such as !{conversion} are "
                                "not supported")
        _check_spec(template, field, spec or "")
        fields.add(field)
    return Template(template, frozenset(fields))


def _check_spec(template: str, field: str, spec: str) -> None:
    """A string format spec (fill, align, width, precision) with bounded numbers."""
    if not spec:
        return
    match = _SPEC.fullmatch(spec)
    if match is None or "{" in spec or "}" in spec:
        raise InvalidOption(f"--name {template!r}: bad format spec {spec!r} for {{{field}}} "
                            "(use e.g. {stem:.20} or {stem:_<8})")
    for group in ("width", "precision"):
        digits = match.group(group) or "0"
        if len(digits) > 3 or int(digits) > NAME_MAX:
            raise InvalidOption(f"--name {template!r}: {group} in {{{field}:{spec}}} is over "
                                f"{NAME_MAX}")
    try:
        format("sample", spec)
    except ValueError as exc:
        raise InvalidOption(f"--name {template!r}: bad format spec {spec!r}: {exc}") from exc


def template_fields(job: Job, ext: str, model: str) -> dict[str, str]:
    """The values the template fields take for ``job``."""
    rel_parent = str(job.rel.parent)
    return {"stem": job.source.stem, "name": job.source.name, "ext": ext.lstrip("."),
            "parent": job.source.parent.name, "model": model,
            "relparent": rel_parent if rel_parent != "." else ""}


def relative_name(template: Template, job: Job, ext: str, model: str) -> Path:
    """The output path of ``job`` relative to the output folder, normalised; InvalidOption if
    it is empty, absolute, leaves the folder or has a component over ``NAME_MAX`` bytes."""
    # the template is relative (checked): a leading "/" comes from an empty {relparent}
    name = template.text.format(**template_fields(job, ext, model)).lstrip("/" + os.sep)
    joined = os.path.join(str(job.rel.parent), name)
    rel = os.path.normpath(joined)
    parts = Path(rel).parts
    if os.path.isabs(rel) or not parts or rel == "." or parts[0] == ".." or \
            name.endswith(("/", os.sep)):
        raise InvalidOption(f"--name {template.text!r} gives {name!r} for {job.source}, which "
                            "is not a file inside the output folder")
    for part in parts:
        if _byte_length(part) > NAME_MAX:
            raise InvalidOption(f"--name {template.text!r} gives a name over {NAME_MAX} bytes "
                                f"for {job.source}, or one that is not a valid file name")
    return Path(rel)


def _byte_length(name: str) -> int:
    """Bytes of ``name`` as a file name; over NAME_MAX if it cannot be one (lone surrogate)."""
    try:
        return len(os.fsencode(name))
    except UnicodeEncodeError:
        return NAME_MAX + 1


def plan_destinations(jobs: list[Job], target: Path | None, out_dir: Path, template: str,
                      ext: str, model: str, *, avoid: Iterable[Path] = ()) -> dict[Job, Path]:
    """The output path of every job, planned before anything is written.

    ``target``: the one output file (one job). Otherwise each job's name comes from
    ``template`` inside ``out_dir``. Inputs whose names collide (x.jpg and x.webp) keep the
    first name for the first one; the others get their source extension added (x-webp.png),
    then a number (x-webp-2.png), each checked against every planned name and against
    ``avoid`` (the input files). A template that gives different inputs one name with no
    field that tells them apart (``same.png``) is an InvalidOption: nothing is overwritten.
    """
    checked = check_template(template)
    if target is not None:
        if len(jobs) != 1:
            raise InvalidOption(f"-o {target} names one file but there are {len(jobs)} "
                                "inputs; give a folder")
        return {jobs[0]: target}
    natural = {job: out_dir / relative_name(checked, job, ext, model) for job in jobs}
    first: dict[str, Job] = {}
    for job in jobs:
        first.setdefault(_key(natural[job]), job)
    taken = set(first)
    inputs = {p.resolve() for p in avoid}
    planned: dict[Job, Path] = {}
    for job in jobs:
        dest = natural[job]
        owner = first[_key(dest)]
        if owner != job:
            if not _tells_apart(checked, owner, job, ext, model):
                raise InvalidOption(
                    f"--name {template!r} gives {dest} to both {owner.source} and "
                    f"{job.source}; use a field that differs, such as {{stem}}")
            dest = _unique(dest, job, taken, inputs)
            taken.add(_key(dest))
        planned[job] = dest
    return planned


def _resolved(path: Path) -> Path:
    """A local path resolved; an object-store key (a PurePosixPath) as it is."""
    return path.resolve() if isinstance(path, Path) else path


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _tells_apart(template: Template, a: Job, b: Job, ext: str, model: str) -> bool:
    """Whether the template uses a field whose value differs between ``a`` and ``b``."""
    if template.fields & FILE_FIELDS:
        return True
    fa, fb = template_fields(a, ext, model), template_fields(b, ext, model)
    return any(fa[f] != fb[f] for f in template.fields)


def _unique(dest: Path, job: Job, taken: set[str], inputs: set[Path]) -> Path:
    """``dest`` with ``-<source ext>`` (then ``-<n>``) added: free among ``taken``/``inputs``."""
    tag = job.source.suffix.lstrip(".").lower() or "file"
    for n in range(1, len(taken) + len(inputs) + 2):
        extra = f"-{tag}" if n == 1 else f"-{tag}-{n}"
        candidate = dest.with_name(f"{dest.stem}{extra}{dest.suffix}")
        if _byte_length(candidate.name) > NAME_MAX:
            raise InvalidOption(f"cannot give {job.source} a unique output name within "
                                f"{NAME_MAX} bytes; shorten --name")
        if _key(candidate) not in taken and _resolved(candidate) not in inputs:
            return candidate
    raise InvalidOption(f"cannot give {job.source} a unique output name")  # pragma: no cover
