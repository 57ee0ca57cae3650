"""Shared fixtures.  Every test runs with its own corpus and index folders in tmp (the
project's corpus/ and index/ are never touched); the real model and the real seed
bulletins are used, the model is loaded once per session (``qa.Index``'s one per process).

The tests are an edge (qa/settings.py): they read the environment with ``Settings.from_env()``
and give it to what they make.  ``index_of`` makes ``qa.Index`` objects and closes them after the
test; ``drop_indexes`` drops the default ones ``qa.search`` made during it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
DEV = ROOT / "tests" / "data" / "dev.jsonl"  # a copy of ../shared/eval/dev.jsonl: the tests need nothing beside the project
CLI = Path(sys.executable).parent / "bulletin-qa"  # the installed command


def cli_cmd(*args: str) -> list[str]:
    """The installed `bulletin-qa` command with ``args`` (``python -m qa.app.cli`` where the entry
    script is missing), for the tests whose point is a process: killed, starved, raced, served."""
    return [str(CLI), *args] if CLI.exists() else [sys.executable, "-m", "qa.app.cli", *args]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`bulletin-qa args` run by the CLI's own ``main`` in this process: its exit code, stdout and
    stderr, with ``env`` added to the environment meanwhile.  The same code as the command after
    the interpreter starts, with this worker's models already loaded: a process of its own costs
    3-4 s of CPU (imports, jieba, both models, a read worker), which only cli_cmd's tests need."""
    import contextlib
    import io
    from unittest.mock import patch

    from qa.app.cli import main

    out, err = io.StringIO(), io.StringIO()
    with patch.dict(os.environ, env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as e:  # argparse's usage errors
            code = e.code if isinstance(e.code, int) else 1
    return subprocess.CompletedProcess(["bulletin-qa", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def isolated_paths(tmp_path, monkeypatch):
    """Point the default corpus/index at empty tmp folders so no test writes into the project."""
    monkeypatch.setenv("BULLETIN_QA_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("BULLETIN_QA_INDEX", str(tmp_path / "index"))
    yield


@pytest.fixture(scope="session")
def settings():
    """The environment's settings at the start of the run (BULLETIN_QA_CACHE: the worktree's model
    cache); a test that changes a variable reads them again (``Settings.from_env()``)."""
    from qa.settings import Settings

    return Settings.from_env()


@pytest.fixture(scope="session")
def embedder(settings):
    """The build's embedder: the process's one (``qa.Index.embedder_for``), shared by every Index."""
    from qa.app.api import Index

    return Index.embedder_for(settings)


def build_index(corpus, index, embedder=None, **options):
    """``qa.index.stores.build_index`` (a folder or a database) as the tests build: with this
    process's models (``qa.Index``'s shared ones, so no build loads the second model again) and
    the environment's settings as they are now."""
    from qa.app.api import Index
    from qa.index import stores
    from qa.settings import Settings

    settings = Settings.from_env()
    if "second" not in options and str(settings.second_model).lower() not in ("none", "off", "0"):
        options["second"] = Index.second_model(settings)
    return stores.build_index(corpus, index, embedder or Index.embedder_for(settings), settings=settings, **options)


@pytest.fixture
def index_of():
    """``index_of(location, **options)``: a ``qa.Index`` of the environment's settings as they are
    now (``options``: the Index's: corpus, settings, embedder, retriever options), closed after the
    test (a database's connections)."""
    from qa.app.api import Index

    made = []

    def make(location, **options):
        made.append(Index(location, **options))
        return made[-1]

    yield make
    for idx in made:
        idx.close()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder):
    """(corpus, index) folders: a copy of the five seed bulletins, indexed once per test run.
    The pytest-xdist workers share one build (the first builds it under a lock, the others
    wait and read it); no test writes into it (``seed_copy`` is the copy to change)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # pytest-xdist's own variable: the workers' common folder
        root = root.parent
    base = root / "seed-shared"
    with FileLock(str(root / "seed-shared.lock")):
        if not (base / "built").exists():
            shutil.rmtree(base, ignore_errors=True)
            shutil.copytree(SEEDS, base / "corpus")
            build_index(base / "corpus", base / "index", embedder)
            (base / "built").touch()
    return base / "corpus", base / "index"


@pytest.fixture
def seed_copy(tmp_path, seed_index):
    """A private copy of the seed corpus and its built index, free to modify."""
    corpus, index = seed_index
    c, i = tmp_path / "c", tmp_path / "i"
    shutil.copytree(corpus, c)
    shutil.copytree(index, i)
    return c, i


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_client(page, port: int, log: Path, seconds: float = 120):
    """A gradio_client Client of the page process ``page`` once it answers on ``port``; fails with
    the end of its log (``log``) if the process dies first or ``seconds`` pass."""
    import time

    from gradio_client import Client

    for _ in range(int(seconds / 0.5)):
        try:
            return Client(f"http://127.0.0.1:{port}/", verbose=False)
        except Exception:  # noqa: BLE001 - not up yet
            assert page.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
    raise AssertionError(f"the page on port {port} did not answer within {seconds} s")


def stop_page(page, log) -> None:
    """End a page process started by a test: SIGTERM, then SIGKILL if it has not ended within
    30 s; its log file is closed.  ``page.returncode`` tells how it ended."""
    import subprocess

    page.terminate()
    try:
        page.wait(30)
    except subprocess.TimeoutExpired:
        page.kill()
    log.close()


@pytest.fixture(scope="session")
def fake_llm():
    """A small OpenAI-compatible chat server of the tests' own on 127.0.0.1 (tests/fake_llm.py):
    ``/v1/models`` and ``/v1/chat/completions``, stream and not, answering from the prompt it
    receives; the model name picks its behaviour; ``.requests`` logs every request."""
    from tests.fake_llm import FakeLLM

    server = FakeLLM().start()
    try:
        yield server
    finally:
        server.close()


def serve_seed_copy(tmp_path_factory, seed_index, name: str, **app_options):
    """Start the real app on a free loopback port over a private copy of the seed corpus and
    index; returns (demo, url, corpus, index, base).  The caller closes ``demo``.
    ``app_options``: more arguments of ``qa.app.web.server.create_app`` (``llm``)."""
    from qa.app.web import server as app

    seed_corpus, seed_idx = seed_index
    base = tmp_path_factory.mktemp(name)
    corpus, index = base / "corpus", base / "index"
    shutil.copytree(seed_corpus, corpus)
    shutil.copytree(seed_idx, index)
    for p in corpus.iterdir():
        p.chmod(0o644)
    demo = app.create_app(corpus, index, **app_options)
    port = free_port()
    app.launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True)
    return demo, f"http://127.0.0.1:{port}/", corpus, index, base


@pytest.fixture
def drop_indexes():
    """``qa.search`` keeps a default ``qa.Index`` per location (with its loaded index): drop the
    ones a test made (``Index.forget_defaults``), so a module of many in-process builds and
    searches does not keep them all.  Dropping one frees it at once (it is in no reference
    cycle); no gc.collect() per test (0.3 s a test in a worker that holds torch and gradio)."""
    from qa.app.api import Index

    before = Index.defaults()
    yield
    Index.forget_defaults(keep=before)


# --------------------------------------------------------------------------- which tests need a model
# Counted, not assumed: a test "needs a model" when a fixture it uses loads the real one
# (``embedder`` and everything built on it), when the e5 or the second model encodes anything
# while it runs (in this process, in any thread), or when it starts a subprocess (which may
# load one).  The share of tests that ran without is printed at the end of the run.

MODEL_FIXTURES = {"embedder"}
_model_use = {"encodes": 0, "subprocesses": 0}
_without_model: dict[str, bool] = {}


def _counting(cls, name, key, counts=lambda *args, **kwargs: True):
    original = getattr(cls, name)

    def wrapper(*args, **kwargs):
        if counts(*args, **kwargs):
            _model_use[key] += 1
        return original(*args, **kwargs)

    wrapper.__wrapped__ = original
    setattr(cls, name, wrapper)


def pytest_configure(config):
    import subprocess

    from qa.ingest import worker as readworker
    from qa.embed.model import Embedder, UseEmbedder

    def not_the_read_worker(popen, args, *rest, **kwargs):  # the worker that reads files loads no model
        return not (isinstance(args, (list, tuple)) and readworker._BOOT in args)

    _counting(Embedder, "_encode", "encodes")
    _counting(UseEmbedder, "_model", "encodes")
    _counting(subprocess.Popen, "__init__", "subprocesses", not_the_read_worker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before = dict(_model_use)
    yield
    used = any(_model_use[k] != before[k] for k in before)
    _without_model[item.nodeid] = not used and not (MODEL_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_sessionfinish(session):
    """Under pytest-xdist each worker counts its own tests: hand them to the controller."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["without_model"] = dict(_without_model)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):  # pytest-xdist, in the controller: a worker finished
    _without_model.update(getattr(node, "workeroutput", {}).get("without_model", {}))


def pytest_terminal_summary(terminalreporter):
    if _without_model:
        n, free = len(_without_model), sum(_without_model.values())
        terminalreporter.write_line(f"tests that ran without loading a model: {free} of {n} ({100 * free / n:.0f}%)")
