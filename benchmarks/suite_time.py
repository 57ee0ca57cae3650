"""The test suite's wall time now against an earlier commit's, on this machine, in one run.

    python benchmarks/suite_time.py                  # against 4ad46f7 (the suite issue 12 timed)
    python benchmarks/suite_time.py --then <commit> --runs 2

A suite's time says as much about the machine as about the code: the same 171 tests took 215 s
on the day issue 12 was filed and 129-143 s on a later machine.  So both suites run here, one
after the other:

* the earlier commit is checked out as a git worktree in a temporary folder, with its own venv
  made the way its Makefile made it (torch==2.13.0 first, then ``.[test]``; the package indexes
  must answer), and ``../shared`` beside it as the tests expect;
* each suite runs whole, with its own ``pytest`` options (the earlier one serial, this one on
  the workers its ``pyproject.toml`` asks for);
* the tests both commits have (same node id) run alone, serially in both, so the per-test cost
  of the same assertions is compared without the workers.

The model cache (``BULLETIN_QA_CACHE``, default ~/.cache/bulletin-qa) is shared: run once before
timing, or pass ``--runs 2`` and read the second, so neither side pays for the one-time model
conversion.  Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Keeps the collected tests whose node id is listed in the file named by SUITE_TIME_KEEP.
KEEP_PLUGIN = '''
import os
def pytest_collection_modifyitems(config, items):
    keep = set(open(os.environ["SUITE_TIME_KEEP"], encoding="utf-8").read().splitlines())
    config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in keep])
    items[:] = [i for i in items if i.nodeid in keep]
'''


def sh(cmd: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)


def venv_for(tree: Path) -> Path:
    """``tree``'s own venv, made as its Makefile does: torch first, then the test extras."""
    py = tree / ".venv" / "bin" / "python"
    if not py.exists():
        for cmd in ([sys.executable, "-m", "venv", str(tree / ".venv")],
                    [str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"],
                    [str(py), "-m", "pip", "install", "-q", "torch==2.13.0"],
                    [str(py), "-m", "pip", "install", "-q", "-e", ".[test]"]):
            r = sh(cmd, tree)
            if r.returncode:
                raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return py


def node_ids(py: Path, tree: Path) -> list[str]:
    r = sh([str(py), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-n", "0"], tree)
    if "-n" in r.stderr and "unrecognized" in r.stderr:  # no pytest-xdist in that commit
        r = sh([str(py), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], tree)
    return [line for line in r.stdout.splitlines() if "::" in line]


def timed(py: Path, tree: Path, args: list[str], env: dict) -> tuple[float, str]:
    """Wall seconds of one pytest run and its summary line; a failing run stops the benchmark."""
    t = time.monotonic()
    r = sh([str(py), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], tree, env)
    wall = time.monotonic() - t
    summary = (r.stdout.strip().splitlines() or ["?"])[-1]
    if r.returncode or not re.search(r"\d+ passed", summary):
        raise SystemExit(f"pytest in {tree} failed ({summary}):\n{r.stdout[-3000:]}{r.stderr[-2000:]}")
    return wall, summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--then", default="4ad46f7", help="the earlier commit (default: the suite issue 12 timed)")
    ap.add_argument("--runs", type=int, default=1, help="runs of each; the table shows each run")
    ap.add_argument("--keep", action="store_true", help="keep the worktree, its venv and the list of common tests")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="suite-time-"))
    then = work / "then"
    (work / "shared").symlink_to((ROOT.parent / "shared").resolve())  # ../shared, as for this tree
    r = sh(["git", "worktree", "add", "--detach", str(then), args.then], ROOT)
    if r.returncode:
        raise SystemExit(r.stderr)
    try:
        py_then, py_now = venv_for(then), ROOT / ".venv" / "bin" / "python"
        if not py_now.exists():
            raise SystemExit("no .venv here: run `make setup` first")
        ids_then, ids_now = node_ids(py_then, then), node_ids(py_now, ROOT)
        common = sorted(set(ids_then) & set(ids_now))
        keep = work / "common.txt"
        keep.write_text("\n".join(common), encoding="utf-8")
        (work / "plugins").mkdir()
        (work / "plugins" / "suite_time_keep.py").write_text(KEEP_PLUGIN, encoding="utf-8")
        env = {**os.environ, "SUITE_TIME_KEEP": str(keep),
               "PYTHONPATH": str(work / "plugins") + os.pathsep + os.environ.get("PYTHONPATH", "")}
        serial_now = ["-n", "0"]  # the earlier suite has no workers
        rows = []
        for run in range(1, args.runs + 1):
            for label, py, tree, extra, n in (
                    (f"{args.then}: whole suite", py_then, then, [], len(ids_then)),
                    ("now: whole suite", py_now, ROOT, [], len(ids_now)),
                    (f"{args.then}: tests both have, serial", py_then, then, ["-p", "suite_time_keep"], len(common)),
                    ("now: tests both have, serial", py_now, ROOT, [*serial_now, "-p", "suite_time_keep"], len(common))):
                wall, summary = timed(py, tree, extra, env)
                rows.append((run, label, n, wall))
                print(f"run {run}: {label}: {wall:.1f} s ({summary})", file=sys.stderr, flush=True)
        head = sh(["git", "rev-parse", "--short", "HEAD"], ROOT).stdout.strip()
        print(f"\nSuite wall time, {args.then} against now ({head}), on this machine ({os.cpu_count()} cores)\n")
        print("| run | suite | tests | wall s |")
        print("|---|---|---:|---:|")
        for run, label, n, wall in rows:
            print(f"| {run} | {label} | {n} | {wall:.1f} |")
        return 0
    finally:
        if args.keep:
            print(f"kept in {work} (`git worktree remove --force {then}` when done)", file=sys.stderr)
        else:
            sh(["git", "worktree", "remove", "--force", str(then)], ROOT)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
