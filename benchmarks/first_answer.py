"""The page's first model-written answer, cold and after the start's warm-up (issue 31: 10.8 s
against a stand-in model that answers at once; later ones about 1 s).

    python benchmarks/first_answer.py INDEX CORPUS cold     # a process's first answer, as before
    python benchmarks/first_answer.py INDEX CORPUS warm     # after qa.app.web.handlers.warm (launch runs it)

Prints wall and CPU seconds of the first and second answer (tests/fake_llm.py as the model)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.app.api import Index  # noqa: E402
from qa.app.web import handlers  # noqa: E402
from qa.generate.llm import LLMSettings  # noqa: E402
from qa.settings import Settings  # noqa: E402
from tests.fake_llm import FakeLLM  # noqa: E402


def timed(fn) -> tuple[float, float]:
    t0, c0 = time.time(), time.process_time()
    fn()
    return round(time.time() - t0, 2), round(time.process_time() - c0, 2)


def main(index_dir: str, corpus: str, how: str) -> None:
    server = FakeLLM().start()
    try:
        index = Index(index_dir, corpus=corpus, settings=Settings.from_env())
        llm = LLMSettings(server.url, "fake-mixed", timeout=20)
        if how == "warm":
            print("| warm-up (s wall, CPU) |", timed(lambda: handlers.warm(index)), "|")
        for n, q in enumerate(["酒泉 持证上岗社会工作者 总数达到多少", "湖北社会工作专业人才总量目标是多少"], 1):
            t = timed(lambda: list(handlers.ask_llm(q, 5, "hybrid", None, index, llm, lang="zh")))
            print(f"| {how} answer {n} (s wall, CPU) | {t} |")
    finally:
        server.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
