"""A build on a real two-node Ray cluster (qa/index/cluster.py) equals a local build, and survives
a killed worker.

The cluster runs inside a network namespace of the test's own (``unshare -n``, loopback only):
outside one, Ray binds the machine's public address and looks itself up through a public
resolver (/work/shared/notes: "Past one machine").  A head and a second node, each with one CPU
and its own temp dir; tests/ray_job.py makes the builds there and the tests read what it wrote.
Two of the seed bulletins, in the model's usual batches: a vector depends on its text alone
(per-row int8 scales, qa/embed/onnx.py), whatever batch it travels in on whichever node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="the [cluster] extra is not installed")
pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0,
                                reason="needs unshare -n (root) for a loopback-only cluster")

ROOT = Path(__file__).resolve().parent.parent
PORT = 6391


@pytest.fixture(scope="module")
def cluster_builds(tmp_path_factory):
    """Start the two nodes in a namespace, run tests/ray_job.py there, stop them: its folder."""
    out = tmp_path_factory.mktemp("ray")
    corpus = out / "corpus"
    corpus.mkdir()
    for name in sorted(p.name for p in (ROOT / "corpus").glob("*.txt"))[:2]:  # two bulletins: enough work to kill
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    ray_cmd = f"{sys.executable} -m ray.scripts.scripts"  # the `ray` command of this interpreter's Ray
    head_tmp, node_tmp = Path(f"/tmp/rayh{os.getpid()}"), Path(f"/tmp/rayn{os.getpid()}")
    script = f"""
set -e
ip link set lo up
export RAY_USAGE_STATS_ENABLED=0 RAY_AUTH_MODE=disabled
{ray_cmd} start --head --port {PORT} --num-cpus 1 --temp-dir {head_tmp} --include-dashboard false \\
    --disable-usage-stats --node-ip-address 127.0.0.1 >{out}/head.log 2>&1
{ray_cmd} start --address 127.0.0.1:{PORT} --num-cpus 1 --temp-dir {node_tmp} \\
    --node-ip-address 127.0.0.1 --disable-usage-stats >{out}/node.log 2>&1
status=0
{sys.executable} {ROOT}/tests/ray_job.py 127.0.0.1:{PORT} {corpus} {out} >{out}/job.log 2>&1 || status=$?
{ray_cmd} stop --force >/dev/null 2>&1 || true
exit $status
"""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    try:
        proc = subprocess.run(["unshare", "-n", "bash", "-c", script], env=env, capture_output=True, text=True,
                              timeout=900)
    finally:
        for d in (head_tmp, node_tmp):
            shutil.rmtree(d, ignore_errors=True)
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(out.glob("*.log")))
    assert proc.returncode == 0, f"{proc.stderr[-2000:]}\n{logs}"
    return out


def _version(index: Path) -> Path:
    return index / (index / "CURRENT").read_text().strip()


def _passages(index: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(line).items()}
            for line in (_version(index) / "passages.jsonl").read_text().splitlines()]


def test_a_ray_build_equals_a_local_one(cluster_builds):
    result = json.loads((cluster_builds / "result.json").read_text())
    assert result["ray"]["rc"] == 0 and result["local"]["rc"] == 0
    assert "on 2 Ray nodes" in result["ray"]["out"]  # both nodes read or embedded something
    local, remote = _version(cluster_builds / "local"), _version(cluster_builds / "ray")
    assert _passages(cluster_builds / "local") == _passages(cluster_builds / "ray")
    for name in ("vectors.npy", "e5_sentences.npy"):
        a, b = np.load(local / name), np.load(remote / name)
        assert a.shape == b.shape and a.shape[0] > 0
        assert a.tobytes() == b.tobytes(), f"{name}: the Ray build's vectors differ from the local build's"


def test_a_killed_worker_is_replaced_and_nothing_is_lost_or_doubled(cluster_builds):
    killed = json.loads((cluster_builds / "result.json").read_text())["killed"]
    assert killed["error"] is None
    assert killed["killed_pid"], "the build ended before an actor could be killed"
    assert len(killed["actor_processes"]) >= 3  # two, then the killed one's replacement took its batch
    assert len(killed["nodes"]) == 2
    local, after = _version(cluster_builds / "local"), _version(cluster_builds / "killed")
    assert _passages(cluster_builds / "local") == _passages(cluster_builds / "killed")
    for name in ("vectors.npy", "e5_sentences.npy"):
        assert np.load(local / name).tobytes() == np.load(after / name).tobytes()


def test_an_unreachable_cluster_is_one_line(tmp_path):
    from conftest import run_cli

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("甘肃省酒泉市新增社会工作者。\n", encoding="utf-8")
    r = run_cli("index", "-q", "--corpus", str(tmp_path / "c"), "--index", str(tmp_path / "i"),
                "--ray", "127.0.0.1:1", env={"BULLETIN_QA_SECOND_MODEL": "none"})
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: cannot join the Ray cluster at 127.0.0.1:1")
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
