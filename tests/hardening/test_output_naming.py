"""Output names planned for the whole batch: no two jobs on one path, none outside -o."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alphacut.errors import InvalidOption
from alphacut.interfaces.batch import Job, expand_inputs, output_path
from alphacut.interfaces.cli_remove import plan_destinations


def jobs_for(names: list[str], folder: Path = Path("in")) -> list[Job]:
    return [Job(folder / name, Path(name)) for name in names]


def plan(names: list[str], template: str = "{stem}.{ext}", **kw: object) -> dict[Job, Path]:
    return plan_destinations(jobs_for(names), None, Path("out"), template, "png", "u2netp",
                             **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("names", list(itertools.permutations(["a-png.jpg", "a.jpg", "a.png"])))
def test_a_collision_suffix_is_checked_against_every_planned_name(names: tuple[str, ...]
                                                                  ) -> None:
    planned = plan(list(names))
    assert len(set(planned.values())) == 3
    # a file whose own name gives a-png.png keeps it, whatever the order
    assert planned[jobs_for(["a-png.jpg"])[0]] == Path("out/a-png.png")


def test_same_stem_inputs_get_their_source_extension_then_a_number() -> None:
    planned = plan(["x.jpg", "x.webp", "x.png", "x.tiff"])
    assert sorted(p.name for p in planned.values()) == ["x-png.png", "x-tiff.png",
                                                        "x-webp.png", "x.png"]
    twins = plan_destinations([Job(Path("a/x.jpg"), Path("x.jpg")),
                               Job(Path("b/x.jpg"), Path("x.jpg")),
                               Job(Path("c/x.jpg"), Path("x.jpg"))],
                              None, Path("out"), "{stem}.{ext}", "png", "u2netp")
    assert sorted(p.name for p in twins.values()) == ["x-jpg-2.png", "x-jpg.png", "x.png"]


def test_a_suffix_never_lands_on_an_input_file(tmp_path: Path) -> None:
    for name in ("x.jpg", "x.webp", "x-cut-webp.png"):
        (tmp_path / name).write_bytes(b"")
    jobs = jobs_for(["x.jpg", "x.webp", "x-cut-webp.png"], tmp_path)
    planned = plan_destinations(jobs, None, tmp_path, "{stem}-cut.{ext}", "png", "u2netp",
                                avoid={j.source for j in jobs})
    assert planned[jobs[1]] != tmp_path / "x-cut-webp.png"
    assert len(set(planned.values())) == 3


@pytest.mark.parametrize("template", ["same.png", "{model}.{ext}", "{parent}-{ext}.png",
                                      "{relparent}/fixed.png"])
def test_a_template_that_cannot_tell_inputs_apart_is_refused(template: str) -> None:
    with pytest.raises(InvalidOption, match="differs"):
        plan(["a.jpg", "b.jpg", "c.jpg"], template)


def test_a_template_that_tells_inputs_apart_plans_one_name_each() -> None:
    planned = plan_destinations([Job(Path("p/a.jpg"), Path("a.jpg")),
                                 Job(Path("q/b.jpg"), Path("b.jpg"))],
                                None, Path("out"), "{parent}.png", "png", "u2netp")
    assert sorted(p.name for p in planned.values()) == ["p.png", "q.png"]


BAD_TEMPLATES = ["{", "}", "{stem", "stem}", "{stem:>99999999999999999999}", "{stem:>9999}",
                 "{stem:.999999999}", "{nope}.png", "{0}", "{}", "{stem.__class__}",
                 "{stem[0]}", "{stem!r}.png", "{stem:{ext}}", "{stem:d}", "{stem:=10}",
                 "", "   ", "x" * 2000, "a\0b.png"]
ESCAPES = ["../x.png", "../../{stem}.png", "a/../../x.png", "/tmp/x.png", "//x.png",
           "~/x.png", "{relparent}", ".", "./", "sub/", "{relparent}/../../{stem}.png"]


@pytest.mark.parametrize("template", BAD_TEMPLATES + ESCAPES)
def test_bad_templates_are_refused_before_the_run(template: str) -> None:
    with pytest.raises(InvalidOption):
        plan(["a.jpg", "b.jpg"], template)
    with pytest.raises(InvalidOption):
        output_path(jobs_for(["a.jpg"])[0], Path("out"), template, "png", "u2netp")


@pytest.mark.parametrize("template", ["{stem}.{ext}", "{stem:.3}-{model}.{ext}",
                                      "sub/{stem}_{ext}.png", "{stem:_<12}.png",
                                      "a/../{stem}.png", "{{{stem}}}.png"])
def test_good_templates_stay_inside_the_output_folder(template: str) -> None:
    out = Path("out").resolve()
    for dest in plan(["apple.jpg", "avocado.jpg"], template).values():
        assert out in dest.resolve().parents


def test_a_name_over_255_bytes_is_refused() -> None:
    with pytest.raises(InvalidOption, match="255"):
        plan(["é" * 120 + ".jpg"], "{stem}{stem}.png")


def test_a_double_star_glob_ends_on_a_folder_with_symlink_loops(tmp_path: Path) -> None:
    deep = tmp_path / "shots" / "a" / "b"
    deep.mkdir(parents=True)
    for folder in (tmp_path / "shots", deep):
        (folder / "x.jpg").write_bytes(b"")
    os.symlink("..", deep / "up")
    os.symlink(tmp_path / "shots", deep / "root")
    probe = ("import sys; from alphacut.interfaces.batch import expand_inputs; "
             "print(len(list(expand_inputs([sys.argv[1]]))))")
    pattern = str(tmp_path / "shots" / "**" / "*.jpg")
    run = subprocess.run([sys.executable, "-c", probe, pattern], capture_output=True,
                         text=True, timeout=20)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "2"
    assert [j.source.name for j in expand_inputs([str(tmp_path / "shots" / "*.jpg")])] == \
        ["x.jpg"]
