"""Derive ``src/deepsentinel/detection/data/names.txt.gz`` from the US Census Bureau 1990 name lists.

    pip download names==0.3.0 --no-deps -d /tmp/names && tar xzf /tmp/names/names-0.3.0.tar.gz -C /tmp/names
    python benchmarks/derive_names.py /tmp/names/names-0.3.0/names

The ``names`` package (MIT) ships the Census files ``dist.male.first``, ``dist.female.first`` and
``dist.all.last`` (a US government work, public domain). We keep every first name and the surnames that cover
the first 80% of the population, upper-cased, one per line, under ``#first`` and ``#last`` headers. Nothing
comes from Faker, which generates the test corpora.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "deepsentinel" / "detection" / "data" / "names.txt.gz"


def _read(path: Path, max_cumulative: float = 100.0) -> list[str]:
    names = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and float(parts[2]) <= max_cumulative:
            names.append(parts[0])
    return names


def main() -> None:
    src = Path(sys.argv[1])
    first = sorted(set(_read(src / "dist.male.first") + _read(src / "dist.female.first")))
    last = sorted(set(_read(src / "dist.all.last", 80.0)))
    text = "#first\n" + "\n".join(first) + "\n#last\n" + "\n".join(last) + "\n"
    OUT.write_bytes(gzip.compress(text.encode(), mtime=0))
    print(f"{len(first)} first names, {len(last)} surnames -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
