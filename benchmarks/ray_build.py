"""What a Ray build costs on one machine, against a local build of the same corpus.

    python benchmarks/ray_build.py [CORPUS ...]      # default: corpus/ and the xquad-dev corpus

Each corpus is built three times into fresh index folders (so nothing comes from an embedding
cache): here (``bulletin-qa index``), and on a Ray cluster of this machine's own
(``--ray local``: one embedding actor per core, each with one ONNX Runtime thread) twice; each
Ray build starts its cluster, and pays for it.  It prints wall seconds and the machine's CPU-seconds over the build
(/proc/stat, every process: Ray's raylet, GCS and workers included), so run it on a quiet
machine.  The figures go in docs/figures.md and docs/cluster.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine_cpu_seconds() -> float:
    """User + system time of every process on the machine since boot (/proc/stat's cpu line)."""
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system = (int(x) for x in fields[:3])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def build(corpus: Path, ray: str | None) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory(prefix="bq-raybench-") as tmp:
        cmd = [sys.executable, "-m", "qa.app.cli", "index", "-q", "--corpus", str(corpus), "--index", tmp]
        if ray:
            cmd += ["--ray", ray]
        env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
        c0, t0 = machine_cpu_seconds(), time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        return time.perf_counter() - t0, machine_cpu_seconds() - c0, out.strip().rsplit(": ", 1)[-1]


def main(argv: list[str]) -> int:
    corpora = [Path(a) for a in argv] or [ROOT / "corpus", ROOT.parent / "shared" / "eval" / "xquad-dev" / "corpus"]
    print("| corpus | build | wall s | machine CPU-s | wall vs local |")
    print("|---|---|---|---|---|")
    for corpus in corpora:
        local_wall, local_cpu, summary = build(corpus, None)
        print(f"| {corpus.name} ({summary.split(';')[0]}) | here | {local_wall:.1f} | {local_cpu:.1f} | 1.00× |")
        for label in ("--ray local (run 1)", "--ray local (run 2)"):
            wall, cpu, _ = build(corpus, "local")
            print(f"| {corpus.name} | {label} | {wall:.1f} | {cpu:.1f} | {wall / local_wall:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
