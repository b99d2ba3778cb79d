"""Ray engine vs the local batch, side by side in one run (issue 11's targets).

    python benchmarks/ray_batch.py                 # 200 photos of 1 MP, 2 rounds; 10k tiny
    python benchmarks/ray_batch.py --count 40 --repeat 1 --tiny 2000   # a quick look

Parts, each in a child process of its own (one Ray per process):

1. ``local``: a local Ray (``ray.init(num_cpus=cores)``) started once; then, interleaved,
   ``alphacut remove DIR`` (the local batch, in-process) and ``remove_many(DIR)`` on the
   same photos, same model and preset. Ray is already up for its runs, so what is measured
   is Ray's per-run and per-image overhead (actor start, session load, moving images through
   the object store), not ``ray.init``. The whole ``--engine ray`` command, Ray start
   included, is timed once at the end on 40 of the photos (``--no-cli`` skips it).
2. ``nodes``: the same photos on a simulated two-node cluster (``ray.cluster_utils``), the
   cores split between the nodes, each node's object store ``--node-store`` MiB (a comma
   list runs one cluster per size; ``cluster_utils``' own 150 MiB made the nodes spill),
   the local batch first, beside them: images/s per CPU. Then ``--tiny`` images
   of 64 x 48 (a tenth, half, then all) through a one-layer model, so the driver and
   Ray's per-item cost are what runs: the driver's resident memory sampled as items finish.
   The tiny model is built with the ``onnx`` package, a benchmark-only dependency (not one of
   alphacut's): ``pip install onnx`` once; without it the tiny part is skipped.

Each Ray part runs every layout in ``--layouts`` (default ``fused,split``:
the default ``remove_many`` and ``split_stages=True``), each compared byte for byte with the local
batch's outputs. Every Ray run also reports the CPU seconds it used per image and per
process kind (every process below the benchmark, from ``/proc``, sampled every 0.3 s),
against the local batch's
``process_time``: on a loaded machine the figure that compares like with like.

Photos: duts_te (then ecssd) from ``../shared/evaldata``, upscaled to 1 MP (JPEG q92) into
``--work`` (default ``benchmarks/work/ray``, git-ignored). Prints a Markdown table and writes
``benchmarks/work/ray/results.json``. On a shared 2-core machine read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

CLI_PHOTOS = 40
HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "ray"
sys.path.insert(0, str(HERE))

from ray_cpu import CpuSampler  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=200, help="1 MP photos")
    p.add_argument("--repeat", type=int, default=2, help="interleaved rounds (local, ray)")
    p.add_argument("-m", "--model", default="u2netp")
    p.add_argument("--preset", default="balanced")
    p.add_argument("--tiny", type=int, default=10_000, help="tiny images for driver memory")
    p.add_argument("--no-cli", dest="cli", action="store_false",
                   help="skip timing the whole --engine ray command")
    p.add_argument("--node-store", default="1024",
                   help="object store MiB per simulated node; a comma list runs each "
                        "(ray.cluster_utils' own default is 150)")
    p.add_argument("--skip", default="", help="comma list: local,nodes")
    p.add_argument("--layouts", default="fused,split",
                   help="comma list of Ray layouts to run beside the local batch: fused "
                        "(the default layout), split (remove_many(split_stages=True))")
    p.add_argument("--work", type=Path, default=WORK,
                   help="photos, outputs and results (default benchmarks/work/ray)")
    p.add_argument("--evaldata", type=Path, default=None)
    p.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# ---------------------------------------------------------------- inputs


def make_photos(evaldata: Path, count: int) -> Path:
    from bench_setup import make_photo

    folder = WORK / "photos-1mp"
    sources = sorted((evaldata / "duts_te" / "images").glob("*.jpg"))
    sources += sorted((evaldata / "ecssd" / "images").glob("*.jpg"))
    if len(sources) < count:
        raise SystemExit(f"benchmark: only {len(sources)} photos in {evaldata}")
    for source in sources[:count]:
        make_photo(source, folder / f"{source.parent.parent.name}-{source.name}", 1.0)
    extra = sorted(folder.glob("*.jpg"))[count:]
    for path in extra:  # a smaller --count than last time
        path.unlink()
    return folder


def subset(photos: Path, count: int) -> Path:
    """The first ``count`` photos in a folder of their own (warm-up, whole-command runs)."""
    folder = WORK / f"photos-first-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in sorted(photos.glob("*.jpg"))[:count]:
        shutil.copy(path, folder / path.name)
    return folder


def make_tiny(count: int) -> tuple[Path, Path]:
    """``count`` 64 x 48 JPEGs and a one-layer model spec; (folder, spec path)."""
    import numpy as np
    from PIL import Image

    folder = WORK / f"tiny-{count}"
    if not folder.is_dir() or len(list(folder.iterdir())) != count:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        rng = np.random.default_rng(0)
        for i in range(count):
            pixels = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=80)
    return folder, tiny_model()


def tiny_model() -> Path:
    """A 1x1 convolution (3 -> 1 channels) at 32 x 32 and its alphacut spec file (built once
    per ``--work``: ``onnx`` is needed only then)."""
    spec = WORK / "tiny-model.json"
    if spec.exists() and (WORK / "tiny.onnx").exists():
        return spec
    import onnx
    from onnx import TensorProto, helper

    weights = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], [0.3, 0.3, 0.3])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["mask"])], "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, 32, 32])],
        [helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["n", 1, 32, 32])],
        [weights])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, WORK / "tiny.onnx")
    spec.write_text(json.dumps({"onnx": "tiny.onnx", "input_size": [32, 32],
                                "activation": "sigmoid", "name": "tiny"}))
    return spec


# ---------------------------------------------------------------- the runs


def local_batch(photos: Path, out: Path, args: argparse.Namespace) -> float:
    from alphacut.interfaces.cli import main

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    code = main(["remove", str(photos), "-o", str(out), "-m", args.model, "--preset",
                 args.preset, "-q"])
    assert code == 0, code
    return time.perf_counter() - start


def ray_batch(photos: Path, out: Path, args: argparse.Namespace, model: str | None = None,
              preset: str | None = None, layout: str = "fused") -> tuple[float, Any]:
    from alphacut.interfaces.ray import remove_many

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    summary = remove_many(str(photos), str(out), model=model or args.model,
                          preset=preset or args.preset, split_stages=layout != "fused")
    assert summary.failed == 0 and summary.written > 0, summary.failures[:3]
    return time.perf_counter() - start, summary


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def phase_local(args: argparse.Namespace, photos: Path) -> dict[str, Any]:
    import ray

    cores = len(os.sched_getaffinity(0))
    ray.init(address="local", num_cpus=cores, include_dashboard=False, log_to_driver=False)
    count = len(list(photos.glob("*.jpg")))
    layouts = args.layouts.split(",")
    for layout in layouts:  # worker processes, imports
        ray_batch(subset(photos, 8), WORK / "out-warm", args, layout=layout)
    local: list[float] = []
    remote: dict[str, list[float]] = {name: [] for name in layouts}
    cpu_s: dict[str, list[float]] = {name: [] for name in layouts}
    same: dict[str, bool | str] = {}
    local_cpu, load = [], [os.getloadavg()[0]]
    for _ in range(args.repeat):
        cpu = time.process_time()
        local.append(count / local_batch(photos, WORK / "out-local", args))
        local_cpu.append(time.process_time() - cpu)
        for layout in layouts:
            with CpuSampler() as sampler:
                remote[layout].append(count / ray_batch(photos, WORK / f"out-{layout}", args,
                                                        layout=layout)[0])
            cpu_s[layout].append(sum(sampler.by_kind().values()))
            this = _same_bytes(WORK / "out-local", WORK / f"out-{layout}")
            before = same.get(layout, True)
            same[layout] = this if before is True or this is False else before
        print(f"  round: local {local[-1]:.3f}, "
              + ", ".join(f"{k} {v[-1]:.3f}" for k, v in remote.items()) + " images/s",
              file=sys.stderr)
    ray.shutdown()
    load.append(os.getloadavg()[0])
    result = {"cores": cores, "count": count, "local_ips": local, "ray_ips": remote,
              "local_cpu_s": local_cpu, "ray_cpu_s": cpu_s, "load": load,
              "ratio": {k: [r / lo for r, lo in zip(v, local, strict=True)]
                        for k, v in remote.items()},
              "identical_outputs": same}
    if args.cli:
        result["cli"] = cli_walls(subset(photos, CLI_PHOTOS), args)
    return result


def cli_walls(photos: Path, args: argparse.Namespace) -> dict[str, float]:
    """The whole commands as a user types them (process start, Ray start included)."""
    walls = {}
    for engine in ("local", "ray"):
        out = WORK / f"out-cli-{engine}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "alphacut.interfaces.cli", "remove", str(photos), "-o",
               str(out), "-m", args.model, "--preset", args.preset, "-q", "--engine", engine]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls[engine] = time.perf_counter() - start
    return walls


def _same_bytes(a: Path, b: Path) -> bool | str:
    """True if every PNG of ``a`` has a byte-identical twin in ``b``; else ``"pixels: N
    files differ in bytes only"`` when they decode alike (ISA-L's deflate once gave one of
    200 files another, equally long, stream for the same rows), else False."""
    import numpy as np
    from PIL import Image

    names = sorted(p.name for p in a.glob("*.png"))
    if not names or names != sorted(p.name for p in b.glob("*.png")):
        return False
    differ = [n for n in names if (a / n).read_bytes() != (b / n).read_bytes()]
    for n in differ:
        with Image.open(a / n) as x, Image.open(b / n) as y:
            if not np.array_equal(np.asarray(x), np.asarray(y)):
                return False
    return True if not differ else f"pixels: {len(differ)} files differ in bytes only"


def phase_nodes(args: argparse.Namespace, photos: Path) -> dict[str, Any]:
    """The photos on a simulated two-node cluster, once per ``--node-store`` size (each
    node's object store), then the local batch beside them; the tiny-image runs on the last
    cluster."""
    count = len(list(photos.glob("*.jpg")))
    cores = len(os.sched_getaffinity(0))
    result: dict[str, Any] = {"nodes": 2, "cpus": 2 * max(1, cores // 2), "count": count,
                              "runs": []}
    if count:  # the local batch again, beside them: this part's own reference
        cpu = time.process_time()
        result["local_ips"] = count / local_batch(photos, WORK / "out-local", args)
        result["local_cpu_s"] = round(time.process_time() - cpu, 2)
    sizes = [int(mb) for mb in args.node_store.split(",")]
    for n, mb in enumerate(sizes):
        last = n == len(sizes) - 1
        result["runs"].append(nodes_run(args, photos, mb, tiny=last and args.tiny > 0))
    return result


def nodes_run(args: argparse.Namespace, photos: Path, store_mb: int, *, tiny: bool
              ) -> dict[str, Any]:
    import ray
    from ray.cluster_utils import Cluster

    per_node = max(1, len(os.sched_getaffinity(0)) // 2)
    node = {"num_cpus": per_node, "object_store_memory": store_mb << 20}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    cluster.add_node(**node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    count = len(list(photos.glob("*.jpg")))
    result: dict[str, Any] = {"store_mb": store_mb}
    for layout in args.layouts.split(",") if count else []:
        ray_batch(subset(photos, 8), WORK / "out-warm", args, layout=layout)
        load = os.getloadavg()[0]
        with CpuSampler() as cpu:
            wall, _ = ray_batch(photos, WORK / f"out-nodes-{layout}", args, layout=layout)
        result.setdefault("layouts", {})[layout] = {
            "ray_ips": count / wall, "ray_cpu_s": cpu.by_kind(),
            "load": [load, os.getloadavg()[0]],
            "identical": _same_bytes(WORK / "out-local", WORK / f"out-nodes-{layout}")}
    if tiny:  # a tenth of the images, half, then all: does the driver grow with the count?
        result["tiny"] = [tiny_run(args, max(1, args.tiny // d)) for d in (10, 2, 1)]
    ray.shutdown()
    cluster.shutdown()
    return result


def tiny_run(args: argparse.Namespace, count: int) -> dict[str, Any]:
    """Driver RSS while ``count`` tiny images stream through; sampled every 0.2 s."""
    try:
        folder, spec = make_tiny(count)
    except ImportError:
        return {"skipped": "pip install onnx to build the tiny model"}
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    manifest = WORK / "out-tiny" / ".alphacut-manifest.jsonl"

    def sample() -> None:
        while not stop.wait(0.2):
            done = _line_count(manifest)
            samples.append((done, rss_mb()))

    base = rss_mb()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    wall, summary = ray_batch(folder, WORK / "out-tiny", args, model=str(spec), preset="fast")
    stop.set()
    sampler.join()
    marks = {}
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        want = fraction * count
        hit = [rss for done, rss in samples if done >= want]
        marks[f"{int(fraction * 100)}%"] = round(hit[0] if hit else samples[-1][1], 1)
    return {"count": count, "ips": summary.written / wall, "rss_before_mb": round(base, 1),
            "rss_at_mb": marks, "rss_peak_mb": round(max(r for _, r in samples), 1)}


def _line_count(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


# ---------------------------------------------------------------- driver


def run_phase(name: str, argv: list[str]) -> dict[str, Any]:
    out = WORK / f"phase-{name}.json"
    out.unlink(missing_ok=True)
    subprocess.run([sys.executable, __file__, *argv, "--phase", name], check=True)
    return json.loads(out.read_text())


def report(results: dict[str, Any]) -> str:
    lines = ["| run | images/s | per CPU | vs local batch (rounds) | CPU s per image |",
             "|---|---|---|---|---|"]
    local = results.get("local")
    if local:
        lo, cpus, n = statistics.median(local["local_ips"]), local["cores"], local["count"]
        lines.append(f"| local batch, {n} x 1 MP | {lo:.3f} | {lo / cpus:.3f} | 1 | "
                     f"{statistics.median(local['local_cpu_s']) / n:.3f} |")
        for layout, ips in local["ray_ips"].items():
            ra = statistics.median(ips)
            rounds = ", ".join(f"{r:.2f}" for r in local["ratio"][layout])
            lines.append(f"| Ray {layout}, one node, {cpus} CPUs | {ra:.3f} | {ra / cpus:.3f} "
                         f"| {ra / lo:.2f} ({rounds}) | "
                         f"{statistics.median(local['ray_cpu_s'][layout]) / n:.3f} |")
        lines.append(f"\nLoad average {local['load']}; outputs byte-identical to the local "
                     f"batch: {local['identical_outputs']}.")
    nodes = results.get("nodes", {})
    if "local_ips" in nodes:
        ref, cpus, count = nodes["local_ips"], nodes["cpus"], nodes["count"]
        lines.append("\n| run | images/s | per CPU | vs local batch | CPU s per image |")
        lines.append("|---|---|---|---|---|")
        lines.append(f"| local batch, beside the two-node runs | {ref:.3f} | {ref / cpus:.3f} | 1 "
                     f"| {nodes['local_cpu_s'] / count:.3f} |")
        for run in nodes["runs"]:
            for layout, part in run.get("layouts", {}).items():
                ips, spent = part["ray_ips"], part["ray_cpu_s"]
                lines.append(f"| Ray {layout}, 2 simulated nodes, {run['store_mb']} MiB stores "
                             f"| {ips:.3f} | {ips / cpus:.3f} | {ips / ref:.2f} | "
                             f"{sum(spent.values()) / count:.3f} |")
        for run in nodes["runs"]:
            for layout, part in run.get("layouts", {}).items():
                lines.append(f"\n{layout}: CPU s by process {part['ray_cpu_s']}; load average "
                             f"{part['load']}; byte-identical {part['identical']}")
    if local and "cli" in local:
        cli = local["cli"]
        lines.append(f"\nWhole command on {CLI_PHOTOS} photos (process + Ray start): local "
                     f"{cli['local']:.1f} s, --engine ray {cli['ray']:.1f} s.")
    for tiny in [t for run in nodes.get("runs", []) for t in run.get("tiny", [])]:
        if "rss_at_mb" not in tiny:
            continue
        marks = ", ".join(f"{k}: {v}" for k, v in tiny["rss_at_mb"].items())
        lines.append(f"\nDriver RSS, {tiny['count']} tiny images on 2 nodes "
                     f"({tiny['ips']:.1f} images/s): before {tiny['rss_before_mb']} MB; "
                     f"at {marks} MB; peak {tiny['rss_peak_mb']} MB.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench_setup import evaldata_dir

    global WORK
    WORK = args.work
    WORK.mkdir(parents=True, exist_ok=True)
    photos = make_photos(evaldata_dir(args.evaldata), args.count) if args.count else WORK
    if args.phase:
        phase = {"local": phase_local, "nodes": phase_nodes}[args.phase]
        (WORK / f"phase-{args.phase}.json").write_text(json.dumps(phase(args, photos)))
        return 0
    passed = [a for a in (argv if argv is not None else sys.argv[1:])]
    skip = set(args.skip.split(","))
    results = {name: run_phase(name, passed) for name in ("local", "nodes")
               if name not in skip}
    (WORK / "results.json").write_text(json.dumps(results, indent=2))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
