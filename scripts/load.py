#!/usr/bin/env python
"""Load test of the question page: N concurrent clients search before, during and after
one index rebuild; reports requests, errors and latency (p50/p95/max) per phase.

    python scripts/load.py                       # 16 clients, 2,000 searches, rebuild via the page
    python scripts/load.py --clients 8 --searches 500 --rebuild cli --json out.json
    python scripts/load.py --db --clients 4 --searches 600 --rebuild cli   # the index in PostgreSQL

By default it copies the project's corpus into a temporary folder, builds its index with
`bulletin-qa index`, starts `python app.py --port P --corpus C --index I` on 127.0.0.1 and
stops it at the end; ``--url`` uses a page that is already running instead (loopback
addresses only).  Every loop is bounded: each client stops when the shared budget of
searches is spent (at most ``3 x --searches`` if the rebuild is still running then), and
every wait has a time limit.

A search counts as an error when the call raises, or does not return a list of passages
each with a source and a text.  The rebuild goes through the page's ``/rebuild`` endpoint
(``--rebuild page``, a full re-embedding "from scratch") or ``bulletin-qa index --rebuild
--wait`` in a subprocess on the same index folder (``--rebuild cli``).

``--db`` puts the index in PostgreSQL + pgvector instead (qa/index/postgres.py): a throw-away server
from the PyPI package ``pgserver`` in the temporary folder (or ``--index postgresql://…``, a
database of yours), so the page and the CLI rebuild are two processes sharing one database.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

QUERIES = [
    "甘肃酒泉社会工作专业人才目标", "湖北社会工作专业人才总量达到多少", "社区工作者持证比例",
    "儿童福利机构", "乡镇社工站建设", "养老服务", "How many certified social workers in Jiuquan?",
    "social work talent goal Hubei 2025", "志愿服务", "民政事业发展规划", "困境儿童关爱",
    "社会组织参与基层治理", "社工 人才 培养", "What does the plan say about child welfare?",
    "2025年", "Jiuquan", "社会救助", "心理健康服务", "农村留守老人", "社区矛盾调解",
]


def dev_queries(limit: int = 60) -> list[str]:
    path = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    out = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
            try:
                q = json.loads(line).get("q")
            except (ValueError, AttributeError):
                continue
            if isinstance(q, str) and q.strip():
                out.append(q)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_loopback(url: str) -> None:
    host = urllib.parse.urlparse(url).hostname or ""
    ok = host == "localhost"
    try:
        ok = ok or ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not ok:
        raise SystemExit(f"error: {url} is not a loopback address; this load test only talks to 127.0.0.1/localhost")


def wait_http(url: str, proc: subprocess.Popen | None, limit: float = 600) -> None:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"error: app.py exited with code {proc.returncode} before serving")
        try:
            with urllib.request.urlopen(url + "config", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"error: {url} did not answer within {limit:.0f}s")


def live_of(index) -> str | None:
    """The live version of an index folder (CURRENT) or database (bqa_live)."""
    if isinstance(index, str):
        import psycopg

        try:
            with psycopg.connect(index, autocommit=True) as conn:
                row = conn.execute("SELECT version FROM bqa_live").fetchone()
            return row[0] if row else None
        except psycopg.Error:
            return None
    return (index / "CURRENT").read_text().strip() if (index / "CURRENT").is_file() else None


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(p / 100 * len(v) + 0.5) - 1))]


class Load:
    def __init__(self, url: str, clients: int, searches: int, queries: list[str], k: int):
        self.url, self.clients, self.searches, self.queries, self.k = url, clients, searches, queries, k
        self.lock = threading.Lock()
        self.issued = 0
        self.done = 0
        self.records: list[tuple[str, float, bool]] = []  # (phase, seconds, ok)
        self.errors: list[str] = []
        self.phase = "before"  # before -> during -> after
        self.rebuild_started = threading.Event()
        self.rebuild_done = threading.Event()
        self.rebuild_result: dict = {}

    def take(self) -> bool:
        """A ticket for one more search, or False when the budget is spent (bounded)."""
        with self.lock:
            cap = self.searches if self.rebuild_done.is_set() else 3 * self.searches
            if self.issued >= cap or (self.issued >= self.searches and self.rebuild_done.is_set()):
                return False
            self.issued += 1
            return True

    def client(self, n: int) -> None:
        from gradio_client import Client

        c = Client(self.url, verbose=False)
        i = n
        while self.take():
            q = self.queries[i % len(self.queries)]
            i += self.clients
            phase_start = self.phase
            t0 = time.perf_counter()
            ok, err = True, ""
            try:
                res = c.predict(q, self.k, "hybrid", None, api_name="/search")
                if not isinstance(res, list) or not all(isinstance(p, dict) and p.get("source") and p.get("text")
                                                        for p in res):
                    ok, err = False, f"unexpected result for {q!r}: {str(res)[:200]}"
            except Exception as e:  # noqa: BLE001 - every failure is counted and reported
                ok, err = False, f"{type(e).__name__}: {str(e)[:300]} (query {q!r})"
            dt = time.perf_counter() - t0
            phase_end = self.phase
            phase = "during" if "during" in (phase_start, phase_end) else phase_end
            with self.lock:
                self.records.append((phase, dt, ok))
                self.done += 1
                if not ok:
                    self.errors.append(err)

    def rebuild(self, how: str, corpus: Path, index: Path) -> None:
        """Wait until a third of the searches are done, then rebuild once."""
        end = time.monotonic() + 3600
        while time.monotonic() < end:
            with self.lock:
                if self.done >= self.searches // 3:
                    break
            time.sleep(0.05)
        before = live_of(index)
        self.phase = "during"
        self.rebuild_started.set()
        t0 = time.perf_counter()
        try:
            if how == "page":
                from gradio_client import Client

                out = Client(self.url, verbose=False).predict(True, api_name="/rebuild")
                msg = out[0] if isinstance(out, (list, tuple)) else out
                ok = isinstance(msg, str) and msg.lstrip().startswith("✓")
            else:
                cli = Path(sys.executable).parent / "bulletin-qa"
                cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "qa.app.cli"]
                r = subprocess.run(cmd + ["index", "--rebuild", "--wait", "-q", "--corpus", str(corpus),
                                          "--index", str(index)], capture_output=True, text=True, timeout=3600)
                out = r.stdout.strip() or r.stderr.strip()
                msg = out.splitlines()[-1] if out else ""
                ok = r.returncode == 0
        except Exception as e:  # noqa: BLE001
            ok, msg = False, f"{type(e).__name__}: {e}"
        after = live_of(index)
        self.rebuild_result = {"how": how, "ok": ok and before != after, "message": str(msg)[:500],
                               "seconds": round(time.perf_counter() - t0, 1), "version_before": before,
                               "version_after": after}
        self.phase = "after"
        self.rebuild_done.set()

    def report(self) -> dict:
        phases = {}
        for ph in ("before", "during", "after", "all"):
            rec = [r for r in self.records if ph == "all" or r[0] == ph]
            lat = [r[1] for r in rec]
            phases[ph] = {"requests": len(rec), "errors": sum(1 for r in rec if not r[2]),
                          "p50_ms": round(1000 * pct(lat, 50), 1), "p95_ms": round(1000 * pct(lat, 95), 1),
                          "max_ms": round(1000 * max(lat), 1) if lat else None,
                          "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else None}
        return {"url": self.url, "clients": self.clients, "phases": phases, "rebuild": self.rebuild_result,
                "error_samples": self.errors[:10]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--searches", type=int, default=2000, help="total searches (at least; see the docstring)")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--rebuild", choices=("page", "cli", "none"), default="page")
    p.add_argument("--url", help="an already running page (loopback only), e.g. http://127.0.0.1:7860/")
    p.add_argument("--corpus", help="corpus to serve (default: a temporary copy of the project's corpus/)")
    p.add_argument("--index", help="index folder (default: a temporary one, built first)")
    p.add_argument("--port", type=int, default=0, help="port for app.py (default: a free one)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.add_argument("--db", action="store_true", help="the index in a throw-away PostgreSQL + pgvector (pgserver)")
    args = p.parse_args(argv)
    if not 1 <= args.clients <= 256 or not 1 <= args.searches <= 10**6:
        p.error("--clients 1..256, --searches 1..1000000")

    work = Path(tempfile.mkdtemp(prefix="bulletin-qa-load-"))
    app = server = None
    try:
        if args.url:
            url = args.url if args.url.endswith("/") else args.url + "/"
            check_loopback(url)
            corpus, index = Path(args.corpus or ""), Path(args.index or "")
            if args.rebuild == "cli" and not args.index:
                p.error("--rebuild cli with --url needs --corpus and --index of that page")
        else:
            corpus = Path(args.corpus) if args.corpus else work / "corpus"
            if not args.corpus:
                shutil.copytree(ROOT / "corpus", corpus)
            index = Path(args.index) if args.index else work / "index"
            if args.index and args.index.startswith(("postgresql://", "postgres://")):
                index = args.index
            elif args.db:
                import pgserver

                work.chmod(0o755)  # pgserver runs PostgreSQL as its own user when run as root
                server = pgserver.get_server(work / "pg", cleanup_mode="stop")
                index = server.get_uri()
            if live_of(index) is None:
                print(f"building the index of {corpus} in {index} ...", file=sys.stderr)
                cli = Path(sys.executable).parent / "bulletin-qa"
                cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "qa.app.cli"]
                subprocess.run(cmd + ["index", "-q", "--corpus", str(corpus), "--index", str(index)],
                               check=True, timeout=3600)
            port = args.port or free_port()
            url = f"http://127.0.0.1:{port}/"
            log = open(work / "app.log", "w")
            app = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port),
                                    "--corpus", str(corpus), "--index", str(index)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
            print(f"starting app.py on {url} ...", file=sys.stderr)
            wait_http(url, app)

        queries = QUERIES + dev_queries()
        load = Load(url, args.clients, args.searches, queries, args.k)
        # one warm-up search so the first client does not time the model loading
        from gradio_client import Client

        try:
            Client(url, verbose=False).predict(queries[0], args.k, "hybrid", None, api_name="/search")
        except Exception as e:  # noqa: BLE001
            print(f"error: the warm-up search failed, not starting the load: {type(e).__name__}: {e}",
                  file=sys.stderr)
            return 1
        t0 = time.perf_counter()
        threads = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(args.clients)]
        if args.rebuild != "none":
            threads.append(threading.Thread(target=load.rebuild, args=(args.rebuild, corpus, index), daemon=True))
        else:
            load.rebuild_done.set()
        for t in threads:
            t.start()
        for t in threads:
            t.join(7200)
        wall = time.perf_counter() - t0
        rep = load.report()
        rep["wall_seconds"] = round(wall, 1)
        rep["searches_per_second"] = round(rep["phases"]["all"]["requests"] / wall, 1) if wall else None
        rep["command"] = "python scripts/load.py " + " ".join(argv if argv is not None else sys.argv[1:])

        print(f"{args.clients} clients, {rep['phases']['all']['requests']} searches in {wall:.1f}s "
              f"({rep['searches_per_second']}/s) against {url}")
        for ph in ("before", "during", "after", "all"):
            f = rep["phases"][ph]
            print(f"  {ph:6s}  requests {f['requests']:5d}  errors {f['errors']:3d}  p50 {f['p50_ms']:8.1f} ms  "
                  f"p95 {f['p95_ms']:8.1f} ms  max {f['max_ms']} ms")
        if rep["rebuild"]:
            r = rep["rebuild"]
            print(f"  rebuild ({r['how']}): {'ok' if r['ok'] else 'FAILED'} in {r['seconds']}s, "
                  f"{r['version_before']} -> {r['version_after']}: {r['message'][:200]}")
        for e in rep["error_samples"]:
            print("  error:", e)
        if args.json:
            Path(args.json).write_text(json.dumps(rep, ensure_ascii=False, indent=1))
        bad = rep["phases"]["all"]["errors"] or (args.rebuild != "none" and not rep["rebuild"].get("ok"))
        return 1 if bad else 0
    finally:
        if app is not None:
            app.terminate()
            try:
                app.wait(30)
            except subprocess.TimeoutExpired:
                app.kill()
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
