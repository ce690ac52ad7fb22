"""Tile cache writes at 1k vs 100k cached tiles: OneMap's tile files at their URL path
(maps.views.geo.tile_write) against Django's FileBasedCache as it was configured before
(MAX_ENTRIES 200,000), which lists its whole folder on every write.

    .venv/bin/python -m tests.bench.tile_cache [--sizes 1000,100000] [--writes 200] [--keep]

A measurement, not a test (timings depend on the machine): it prints the median write time at each
cache size and the ratio between the largest and the smallest. The caches of every size are filled
first, then written to in turn (one write each, round after round), so the machine's other load
weighs on every size alike. The caches are filled in a
temporary folder (about 1 GB at 100k, removed afterwards unless --keep). The FileBasedCache is
pre-filled with empty `.djcache` files (its cull only lists and counts them), which takes seconds
instead of the hours that 100k real `set()` calls would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BODY = os.urandom(2048)  # a typical small vector tile


def _setup_django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onemap.settings")
    django.setup()


def _onemap_fill(root: Path, n: int) -> None:
    from maps.views.geo import tile_write

    for i in range(n):
        # spread like real tiles: one version, zoom 15, x/y around Jiayu
        tile_write(root / "1" / "15" / str(26700 + i // 1000) / f"{13500 + i % 1000}.pbf", BODY)


def _onemap_writer(root: Path):
    from maps.views.geo import tile_write

    def write(i: int) -> None:
        tile_write(root / "1" / "16" / str(53400 + i // 100) / f"{27000 + i % 100}.pbf", BODY)

    return write


def _django_fill(root: Path, n: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"{i:032x}.djcache").touch()


def _django_writer(root: Path):
    from django.core.cache.backends.filebased import FileBasedCache

    cache = FileBasedCache(str(root), {"TIMEOUT": None, "OPTIONS": {"MAX_ENTRIES": 200_000}})

    def write(i: int) -> None:
        cache.set(f"mvt:1:1:16:{i}:0", BODY)

    return write


def _interleaved_medians(writers: list, writes: int) -> list[float]:
    """Median ms per writer, the writers taking turns so that the machine's load hits all alike."""
    times: list[list[float]] = [[] for _ in writers]
    for i in range(writes):
        for k, write in enumerate(writers):
            t0 = time.perf_counter()
            write(i)
            times[k].append(time.perf_counter() - t0)
    return [statistics.median(t) * 1000 for t in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="cache sizes (entries) to measure at, ascending")
    parser.add_argument("--writes", type=int, default=200, help="writes timed at each size (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the filled caches")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    _setup_django()
    work = Path(tempfile.mkdtemp(prefix="onemap-tile-bench-"))
    results: dict[str, list[float]] = {}
    try:
        for size in sizes:
            _onemap_fill(work / f"onemap-{size}", size)
            _django_fill(work / f"django-{size}", size)
            print(f"filled {size:,} entries", file=sys.stderr)
        os.sync()  # measure writes, not the write-back of the fill still in flight
        results["OneMap tile files"] = _interleaved_medians([_onemap_writer(work / f"onemap-{s}") for s in sizes], args.writes)
        results["Django FileBasedCache"] = _interleaved_medians([_django_writer(work / f"django-{s}") for s in sizes], min(args.writes, 50))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    head = " | ".join(f"median write at {s:,}" for s in sizes)
    print(f"| cache | {head} | ratio {sizes[-1]:,} / {sizes[0]:,} |")
    print("|---|" + "---|" * len(sizes) + "---|")
    for name, medians in results.items():
        print(f"| {name} | " + " | ".join(f"{m:.3f} ms" for m in medians) + f" | {medians[-1] / medians[0]:.1f}× |")
    print(f"\nreproduce: .venv/bin/python -m tests.bench.tile_cache --sizes {args.sizes} --writes {args.writes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
