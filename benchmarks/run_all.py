"""Run every `bench_*.py` in `benchmarks/` one after another; exit non-zero if any of them fails.

    python benchmarks/run_all.py            # full runs (tens of minutes on two cores)
    python benchmarks/run_all.py --tiny     # seconds-long smoke runs, for CI

Target misses are reported by each benchmark; only a benchmark that crashes counts as
a failure here.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Every bench_*.py, the slow scale benchmark last.
BENCHMARKS = sorted(
    (p.name for p in HERE.glob("bench_*.py")), key=lambda name: (name == "bench_scale.py", name)
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="pass --tiny to every benchmark")
    parser.add_argument("--only", nargs="*", help="run only these scripts (names from the list)")
    args = parser.parse_args()
    names = [n for n in BENCHMARKS if not args.only or n in args.only]
    failed: list[str] = []
    for name in names:
        argv = [sys.executable, str(HERE / name), *(["--tiny"] if args.tiny else [])]
        print(f"\n$ {' '.join(argv[1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(argv)
        print(f"[{name}: exit {code} after {time.perf_counter() - start:.1f} s]", flush=True)
        if code != 0:
            failed.append(name)
    print(
        f"\n{len(names) - len(failed)} of {len(names)} benchmarks ran; failed: "
        f"{', '.join(failed) or 'none'}"
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
