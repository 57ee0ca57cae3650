"""Run by tests/test_cluster.py inside a network namespace of its own, beside a two-node Ray
cluster it started there: three builds of the same corpus, and what each did, as JSON.

    python tests/ray_job.py ADDRESS CORPUS OUT_DIR

- ``local``: a build here, no cluster;
- ``ray``: ``bulletin-qa index --ray ADDRESS`` (the CLI's own main, so the flag is what is tested);
- ``killed``: a build on the cluster during which one embedding actor's process is killed
  (SIGKILL) as soon as it has encoded something.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path


def actor_pids() -> set[int]:
    """The processes of the embedding actors (Ray titles them ``ray::_EmbedActor``)."""
    pids = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if b"_EmbedActor" in (d / "cmdline").read_bytes():
                    pids.add(int(d.name))
            except OSError:
                pass
    return pids


def killed_build(address: str, corpus: Path, index: Path, settings) -> dict:
    """A build on the cluster in a thread; this thread kills an embedding actor's process as soon
    as two are up (while they load the model, their first batches queued: on a quiet machine the
    encoding of two bulletins is over in seconds), and watches for its replacement."""
    from qa.app.api import Index
    from qa.index import stores

    out: dict = {}
    s = settings.replace(ray=address)

    def build():
        try:
            out["report"] = stores.build_index(corpus, index, Index.embedder_for(s), settings=s, second=None)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            out["error"] = repr(e)

    t = threading.Thread(target=build)
    t.start()
    killed, seen = None, set()
    while t.is_alive():
        time.sleep(0.05)
        now = actor_pids()
        seen |= now
        if killed is None and len(now) >= 2:  # at once: actors start with the encoding, each with batches queued
            killed = min(now)
            os.kill(killed, signal.SIGKILL)
    t.join()
    report = out.get("report")
    return {"killed_pid": killed, "actor_processes": sorted(seen), "error": out.get("error"),
            "nodes": report.nodes if report else None, "passages": report.passages if report else None}


def main() -> int:
    address, corpus, out_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    from qa.app import cli
    from qa.settings import Settings

    settings = Settings.from_env().replace(second_model="none")
    os.environ["BULLETIN_QA_SECOND_MODEL"] = "none"
    result = {}
    with contextlib.redirect_stdout(io.StringIO()) as local_out:
        rc = cli.main(["index", "-q", "--corpus", str(corpus), "--index", str(out_dir / "local")])
    result["local"] = {"rc": rc, "out": local_out.getvalue()}
    with contextlib.redirect_stdout(io.StringIO()) as ray_out:
        rc = cli.main(["index", "-q", "--corpus", str(corpus), "--index", str(out_dir / "ray"), "--ray", address])
    result["ray"] = {"rc": rc, "out": ray_out.getvalue()}
    result["killed"] = killed_build(address, corpus, out_dir / "killed", settings)
    (out_dir / "result.json").write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
