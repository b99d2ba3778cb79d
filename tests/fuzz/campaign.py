"""A long local fuzz campaign over the decoder (not collected by pytest).

    PYTHONPATH=src python tests/fuzz/campaign.py --seconds 600 --seed 1 --out /tmp/crashers

Mutates the seeds of ``decode_fuzzing`` at random for ``--seconds`` and keeps, per distinct
finding (exception type and where it was raised), the smallest input that triggers it, plus
any input slower than ``--slow`` seconds. Prints the counts at the end.
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode_fuzzing import check_decode, mutate, random_ops, seeds


def _key(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(e).__name__} at {where}: {str(e)[:60]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("fuzz-findings"))
    parser.add_argument("--slow", type=float, default=2.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    corpus = seeds()
    names = sorted(corpus)
    pool = list(corpus.values())
    outcomes: collections.Counter[str] = collections.Counter()
    findings: dict[str, bytes] = {}
    tried, end = 0, time.monotonic() + args.seconds
    while time.monotonic() < end:
        name = rng.choice(names)
        data = mutate(corpus[name], random_ops(rng), pool)
        tried += 1
        start = time.perf_counter()
        try:
            outcomes[check_decode(data)] += 1
        except Exception as e:  # a finding: anything but a typed error or a valid result
            key = f"{name}: {_key(e)}"
            outcomes["UNTYPED"] += 1
            if key not in findings or len(data) < len(findings[key]):
                findings[key] = data
        elapsed = time.perf_counter() - start
        if elapsed > args.slow:
            findings[f"{name}: slow {elapsed:.1f}s #{tried}"] = data
    for i, (key, data) in enumerate(sorted(findings.items())):
        (args.out / f"finding-{i:03d}.bin").write_bytes(data)
        print(f"finding-{i:03d}.bin ({len(data)} bytes): {key}")
    print(f"tried {tried} inputs: {dict(outcomes)}; {len(findings)} distinct findings")
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
