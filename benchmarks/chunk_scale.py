"""Reading + chunking an unpunctuated file of 1, 2 and 4 MB (issue 31, finding 7): CPU-seconds and
peak memory of each, in a fresh process, so that a superlinear step shows as a ratio > 2.

    python benchmarks/chunk_scale.py [MB ...]
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ONE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from qa.ingest.read import read_document_here
from qa.ingest.chunk import chunk_document
from qa.text.chars import jieba_ready
jieba_ready()
t = time.process_time()
doc = read_document_here(Path(sys.argv[1]), "wall.txt")
chunks = chunk_document(doc)
print(json.dumps({"cpu": time.process_time() - t, "chunks": len(chunks),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(sizes: list[float]) -> None:
    rnd = random.Random(7)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    print("| MB | CPU-seconds (read + chunk) | per MB | passages | peak RSS MB |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as d:
        for mb in sizes:
            p = Path(d) / "wall.txt"
            p.write_text("".join(rnd.choice(han) for _ in range(int(mb * 1024 * 1024 / 3))), encoding="utf-8")
            t = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", _ONE, str(p), str(ROOT)], capture_output=True, text=True,
                                 check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"| {mb:g} | {r['cpu']:.1f} | {r['cpu'] / mb:.1f} | {r['chunks']} | {r['rss_mb']:.0f} |"
                  f"  (wall {time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main([float(a) for a in sys.argv[1:]] or [1, 2, 4])
