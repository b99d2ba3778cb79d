"""The Ray engine on a local Ray (``ray.init(num_cpus=2)``): same bytes as the local batch,
bad images recorded, an inference actor killed mid-run, S3 in and out."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from raytools import (
    LAYOUTS,
    MODEL,
    Gate,
    actor_pids,
    done_counts,
    files,
    layout_flags,
    layout_options,
    local_batch,
    manifest_lines,
    pets_folder,
    run_with_fault,
)

from alphacut.interfaces.cli import main
from alphacut.interfaces.ray import remove_many
from helpers import evaldata

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.usefixtures("local_ray")]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_outputs_match_the_local_batch_byte_for_byte(tmp_path: Path, layout: str) -> None:
    inputs = pets_folder(tmp_path / "in")
    data = evaldata()
    if data is not None:  # two real photos of another kind, at their own size
        for photo in sorted((data / "ecssd" / "images").glob("*.jpg"))[:2]:
            (inputs / "ecssd").mkdir(exist_ok=True)
            (inputs / "ecssd" / photo.name).write_bytes(photo.read_bytes())
    expected = local_batch(inputs, tmp_path / "local")
    code = main(["remove", str(inputs), "-o", str(tmp_path / "ray"), *MODEL, "-q",
                 "--engine", "ray", *layout_flags(layout)])
    assert code == 0
    got = files(tmp_path / "ray")
    assert sorted(got) == sorted(expected)
    assert [n for n in expected if got[n] != expected[n]] == []


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_bad_image_is_recorded_and_the_rest_go_on(tmp_path: Path, layout: str) -> None:
    inputs = pets_folder(tmp_path / "in")
    (inputs / "garbage.jpg").write_bytes(b"this is not a jpeg at all")
    whole = (inputs / "Persian_140.jpg").read_bytes()
    (inputs / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    out = tmp_path / "out"
    summary = remove_many(str(inputs), str(out), model="u2netp", **layout_options(layout))
    assert summary.written == 4
    assert sorted(Path(f.src).name for f in summary.failures) == ["garbage.jpg", "truncated.jpg"]
    assert {f.code for f in summary.failures} <= {"invalid_image", "unsupported_image"}
    assert summary.exit_code == 2
    failed = [r for r in manifest_lines(out / ".alphacut-manifest.jsonl")
              if r.get("status") == "failed"]
    assert {Path(str(r["src"])).name for r in failed} == {"garbage.jpg", "truncated.jpg"}
    assert not (out / "garbage.png").exists() and not (out / "truncated.png").exists()
    # the same call again: the four done ones are left alone, the bad ones fail again
    again = remove_many(str(inputs), str(out), model="u2netp", **layout_options(layout))
    assert (again.earlier, again.written, again.failed) == (4, 0, 2)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_an_inference_actor_killed_mid_run_loses_nothing(tmp_path: Path, layout: str) -> None:
    inputs = pets_folder(tmp_path / "in", copies=2)
    gate = Gate(tmp_path / "gate")  # the run cannot end before the kill: see Gate
    out = tmp_path / "out"
    manifest = out / ".alphacut-manifest.jsonl"
    killed: list[int] = []

    def kill_an_actor() -> None:
        pid = actor_pids()[0]  # an actor ran the first item; the pool is still up
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)

    summary = run_with_fault(inputs, gate, out, kill_an_actor, layout)
    assert killed, "no inference actor was found to kill"
    assert summary.failed == 0 and summary.written == 9
    counts = done_counts(manifest)
    assert len(counts) == 9 and set(counts.values()) == {1}
    assert len(files(out)) == 9
    assert not [p for p in out.rglob(".*.tmp")]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_s3_in_and_out(tmp_path: Path, s3_endpoint: str, layout: str) -> None:
    import s3fs

    bucket = f"photos-{layout}"
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint)
    fs.mkdir(bucket)
    inputs = pets_folder(tmp_path / "in")
    for photo in sorted(inputs.iterdir()):
        fs.pipe_file(f"{bucket}/shoot/{photo.name}", photo.read_bytes())
    fs.pipe_file(f"{bucket}/shoot/notes.txt", b"not an image: not listed")
    expected = local_batch(inputs, tmp_path / "local", "--format", "webp")
    manifest = tmp_path / "manifest.jsonl"
    src, dest = f"s3://{bucket}/shoot/", f"s3://{bucket}/cutouts"
    code = main(["remove", src, "-o", dest, *MODEL, "-q", "--format", "webp", "--engine", "ray",
                 "--manifest", str(manifest), *layout_flags(layout)])
    assert code == 0
    fs.invalidate_cache()
    got = {Path(k).name: fs.cat_file(k) for k in fs.find(f"{bucket}/cutouts")}
    assert got == expected
    stamps = {k: fs.info(k)["LastModified"] for k in fs.find(f"{bucket}/cutouts")}
    again = remove_many(src, dest, model="u2netp", format="webp", manifest=str(manifest),
                        **layout_options(layout))
    assert (again.earlier, again.written) == (4, 0)
    fs.invalidate_cache()
    assert {k: fs.info(k)["LastModified"] for k in fs.find(f"{bucket}/cutouts")} == stamps
