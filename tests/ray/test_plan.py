"""The driver's bookkeeping without a cluster: manifest reading (torn lines), the settle rules
for existing outputs and resumes, naming for object-storage keys, temp-file sweeping."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path, PurePosixPath

from alphacut.config import Config
from alphacut.interfaces.batch import Job
from alphacut.interfaces.ray.manifest import History, Manifest, fingerprint, read_history
from alphacut.interfaces.ray.plan import Rules, destinations, make_plan
from alphacut.interfaces.ray.storage import sweep_temps


def test_a_torn_last_line_is_ignored_and_the_next_run_starts_on_a_new_line(
        tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    first = Manifest(path, "fp1").open()
    first.record("a.jpg", "out/a.png", "done")
    first.record("b.jpg", "out/b.png", "failed", code="invalid_image", error="b.jpg: bad")
    first._handle.write('{"src": "c.jpg", "dest": "out/c.png", "sta')  # killed mid-line
    first._handle.flush()
    history = read_history(path, "fp1")
    assert history.done == {"a.jpg": "out/a.png"}
    assert history.interrupted_since is not None  # no end line: that run was killed
    second = Manifest(path, "fp1").open()
    second.record("c.jpg", "out/c.png", "done")
    second.close(finished=True)
    history = read_history(path, "fp1")
    assert history.done == {"a.jpg": "out/a.png", "c.jpg": "out/c.png"}
    assert history.interrupted_since is None
    assert read_history(path, "other settings").done == {}


def test_the_fingerprint_ignores_threads_but_not_what_shapes_the_output() -> None:
    base = fingerprint(Config.build(model="u2netp"), "{stem}.{ext}")
    assert fingerprint(Config.build(model="u2netp", threads=3), "{stem}.{ext}") == base
    assert fingerprint(Config.build(model="u2netp", preset="fast"), "{stem}.{ext}") != base
    assert fingerprint(Config.build(model="u2netp"), "{stem}-cut.{ext}") != base


def _history(path: Path, *, killed_at: float | None, done: dict[str, str]) -> History:
    lines = []
    if killed_at is not None:
        lines.append({"run": killed_at, "fp": "f"})
    lines += [{"src": s, "dest": d, "status": "done", "fp": "f"} for s, d in done.items()]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return read_history(path, "f")


def test_settle_rules_for_existing_outputs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    names = ["recorded", "recovered", "old", "new"]
    found = [(str(tmp_path / f"{n}.jpg"), Job(tmp_path / f"{n}.jpg", Path(f"{n}.jpg")))
             for n in names]
    dests = [str(out / f"{n}.png") for n in names]
    for dest in dests[:3]:
        Path(dest).write_bytes(b"x")
    past = time.time() - 3600
    os.utime(dests[2], (past, past))  # "old" existed before the interrupted run began
    history = _history(tmp_path / "m.jsonl", killed_at=time.time() - 60,
                       done={found[0][0]: dests[0]})
    plan = make_plan(found, dests, str(out), history, Rules())
    assert plan.earlier == 1
    settled = {Path(s.src).stem: s.status for s in plan.settled}
    assert settled == {"recovered": "done", "old": "failed"}
    assert [Path(r["src"]).stem for r in plan.todo] == ["new"]
    skip = make_plan(found, dests, str(out), history, Rules(skip_existing=True))
    assert {Path(s.src).stem: s.status for s in skip.settled}["old"] == "skipped"
    over = make_plan(found, dests, str(out), history, Rules(overwrite=True))
    assert sorted(Path(r["src"]).stem for r in over.todo) == ["new", "old"]


def test_an_output_that_would_replace_an_input_is_refused(tmp_path: Path) -> None:
    photo = tmp_path / "a.png"
    photo.write_bytes(b"x")
    found = [(str(photo), Job(photo, Path("a.png")))]
    history = _history(tmp_path / "m.jsonl", killed_at=None, done={})
    plan = make_plan(found, [str(photo)], str(tmp_path), history, Rules(overwrite=True))
    assert [s.status for s in plan.settled] == ["failed"]
    assert "refusing to overwrite an input" in str(plan.settled[0].error)


def test_object_keys_are_named_like_files() -> None:
    keys = ["shop/raw/a/x.jpg", "shop/raw/b/x.jpg", "shop/raw/b/x.webp"]
    found = [(f"s3://{k}", Job(PurePosixPath(k), PurePosixPath(k).relative_to("shop/raw")))
             for k in keys]
    got = destinations(found, "s3://shop/out/", single_file=False,
                       template="{stem}-{model}.{ext}", ext="png", model="u2netp")
    assert got == ["s3://shop/out/a/x-u2netp.png", "s3://shop/out/b/x-u2netp.png",
                   "s3://shop/out/b/x-u2netp-webp.png"]


def test_sweep_removes_only_temporary_files(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    temp = tmp_path / "sub" / ".x.png.0a1b2c3d.tmp"
    keep = [tmp_path / "x.png", tmp_path / ".alphacut-manifest.jsonl", tmp_path / ".hidden.tmp"]
    for path in [temp, *keep]:
        path.write_bytes(b"x")
    assert sweep_temps(str(tmp_path)) == 1
    assert not temp.exists() and all(p.exists() for p in keep)
