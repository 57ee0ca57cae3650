"""Answers in words from the user's own model (qa/generate/llm.py), tested for real over HTTP: the
tests' own OpenAI-compatible server (tests/fake_llm.py, fixture ``fake_llm``) runs on 127.0.0.1
and answers from the prompt it receives; the ``openai`` client talks to it; the real model and
the real index of the seed bulletins do the search.  Each case runs through ``qa.answer``, the
CLI and the page (``handlers.ask_llm``, the served ``/answer`` endpoint; the browser test streams it)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.retrieve.results import Passage
from qa.generate.check import check_sentence, cn_value, figures_in
from qa.generate.llm import LLMSettings, build_messages, llm_settings, split_sentences
from tests.conftest import free_port, serve_seed_copy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTION = "酒泉 持证上岗社会工作者 总数达到多少"  # passage [1] holds 新增300名 / 总数达到800名以上
UNANSWERABLE = "苏州社工站建了多少个"  # "no bulletin mentions 苏州"
JIUQUAN = Passage("日前，酒泉市委社会工作部印发方案，力争2025年年底前全市新增300名左右持证上岗社会工作者，总数达到800名以上。"
                  "全市社会工作人才达到8万人，持证率达到50%以上。", "003.txt",
                  "甘肃酒泉：多措并举推动社会工作专业人员队伍建设提质增量", 121, 136, 1.0)
HUBEI = Passage("《规划》分为7章，明确到2025年，全省社会工作专业人才总量达到3.5万人。", "000.txt", "湖北省民政事业发展规划", 1, 5, 0.5)


def settings(server, model: str, **kw) -> LLMSettings:
    return LLMSettings(server.url, model, **({"timeout": 5.0} | kw))


@pytest.fixture
def llm(fake_llm):
    """The fake server with an empty request log."""
    with fake_llm.lock:
        fake_llm.requests.clear()
    return fake_llm


@pytest.fixture
def no_llm_env(monkeypatch):
    for name in ("BULLETIN_QA_LLM_URL", "BULLETIN_QA_LLM_MODEL", "BULLETIN_QA_LLM_API_KEY",
                 "BULLETIN_QA_LLM_TIMEOUT", "BULLETIN_QA_LLM_RETRIES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a network connection (or look a name up) is recorded and refused."""
    attempts = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(kind):
        def guard(self, *args, **kwargs):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                attempts.append((kind, args))
                raise OSError(f"test guard: no network ({kind} {args})")
            return (real_connect if kind == "connect" else real_connect_ex)(self, *args, **kwargs)
        return guard

    def no_lookup(*args, **kwargs):
        attempts.append(("getaddrinfo", args))
        raise OSError("test guard: no name lookups")

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", no_lookup)
    return attempts


# --------------------------------------------------------------------------- the check (no model)


def test_a_figure_of_the_cited_passage_passes_and_a_made_up_one_does_not():
    ps = [JIUQUAN, HUBEI]
    assert check_sentence("酒泉市力争新增300名左右持证上岗社会工作者，总数达到800名以上[1]。", [1], ps) == (True, "")
    assert check_sentence("全市社会工作人才达到8万[1]。", [1], ps)[0]  # 8万 = 8万人
    assert check_sentence("全市社会工作人才达到80000人[1]。", [1], ps)[0]  # the same value
    assert check_sentence("持证率达到百分之五十[1]。", [1], ps)[0]
    ok, why = check_sentence("总数达到9999名[1]。", [1], ps)
    assert not ok and "9999" in why and "[1]" in why
    assert not check_sentence("总数达到80名[1]。", [1], ps)[0]  # 80 is not 800
    assert not check_sentence("持证率达到300%[1]。", [1], ps)[0]  # 300 is there, not as a percentage
    assert not check_sentence("力争2026年年底前完成[1]。", [1], ps)[0]  # a year
    assert check_sentence("《规划》分为七章[2]。", [2], ps)[0]  # 七章 = 7章
    assert not check_sentence("《规划》分为7章[1]。", [1], ps)[0]  # true, but not in the passage it cites
    assert check_sentence("湖北：3.5万人；酒泉：800名[1][2]。", [1, 2], ps)[0]  # each figure in one of its passages


def test_place_names_must_be_in_a_cited_passage_or_its_title():
    ps = [JIUQUAN]
    assert check_sentence("甘肃省酒泉市新增300名持证上岗社会工作者[1]。", [1], ps)[0]  # 甘肃 from the title
    ok, why = check_sentence("苏州市新增300名持证上岗社会工作者[1]。", [1], ps)
    assert not ok and "苏州" in why
    assert check_sentence("Jiuquan aims for more than 800 certified social workers by 2025 [1].", [1], ps)[0]
    ok, why = check_sentence("Suzhou aims for more than 800 certified social workers [1].", [1], ps)
    assert not ok and "Suzhou" in why


def test_markers_must_name_retrieved_passages():
    ps = [JIUQUAN, HUBEI]
    ok, why = check_sentence("总数达到800名以上[3]。", [3], ps)
    assert not ok and why == "cites [3], but only 2 passages were retrieved"
    assert check_sentence("总数达到800名以上。", [], ps) == (False, "cites no passage")
    assert not check_sentence("总数达到800名以上[0]。", [0], ps)[0]


def test_numbers_are_read_in_both_scripts():
    assert cn_value("一百零五") == 105 and cn_value("两万") == 20000 and cn_value("二〇二五") == 2025
    assert cn_value("三点五") == 3.5 and cn_value("十四五") is None
    assert [(v, kind) for _s, v, kind in figures_in("新增300名，8万人，2.5万户，50%，1,200元")] == \
           [(300, ""), (80000, ""), (25000, ""), (50, "%"), (1200, "")]
    assert figures_in("十四五规划第三章，千家万户，一个社区") == []
    assert [v for _s, v, _p in figures_in("三百名社工，两个机制")] == [300, 2]


def test_sentences_and_their_markers_as_they_stream_in():
    text = "到2025年底总数达到800名以上[1]。另外新增300名。[2]\n[3]Jiuquan has 8 [1, 2]. Done [4]"
    assert split_sentences(text) == [("到2025年底总数达到800名以上[1]。", [1]), ("另外新增300名。[2][3]", [2, 3]),
                                     ("Jiuquan has 8 [1][2].", [1, 2]), ("Done [4]", [4])]
    # while streaming, a sentence is held back until something that cannot be its marker follows
    for partial in ("句子。", "句子。[", "句子。[1", "句子。[1]", "句子。\n", "句子。\n[1] "):
        assert split_sentences(partial, final=False) == []
    assert split_sentences("句子。[1]下", final=False) == [("句子。[1]", [1])]
    assert split_sentences("1. 第一点[1]\n2. 第二点[2]") == [("第一点[1]", [1]), ("第二点[2]", [2])]


def test_the_prompt_numbers_the_passages_and_says_why_in_the_code():
    system, user = build_messages("甘肃酒泉 certified-worker goal", [JIUQUAN, HUBEI])
    assert "[1] 标题：甘肃酒泉" in user["content"] and "[2] 标题：湖北省" in user["content"]
    assert "出处：(003.txt, lines 121-136)" in user["content"] and JIUQUAN.text in user["content"]
    assert user["content"].endswith("问题：甘肃酒泉 certified-worker goal")
    assert "只根据下面编号的段落" in system["content"] and "请用简体中文回答" in system["content"]  # a mixed question
    system, _ = build_messages("What is Jiuquan's goal?", [JIUQUAN])
    assert "Answer in English." in system["content"] and "square brackets" in system["content"]


def test_settings_are_read_from_the_environment(monkeypatch, no_llm_env):
    from qa.settings import Settings

    def env():  # an edge reads the environment once and hands it to llm_settings
        return Settings.from_env()

    assert llm_settings(settings=env()) is None and llm_settings() is None
    monkeypatch.setenv("BULLETIN_QA_LLM_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("BULLETIN_QA_LLM_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("BULLETIN_QA_LLM_API_KEY", "sk-test")
    s = llm_settings(settings=env())
    assert (s.url, s.model, s.api_key, s.timeout, s.max_retries) == ("http://127.0.0.1:11434/v1", "qwen2.5:7b",
                                                                     "sk-test", 30.0, 1)
    assert llm_settings() is None  # no settings given: the defaults, never the environment
    monkeypatch.setenv("BULLETIN_QA_LLM_TIMEOUT", "7.5")
    assert llm_settings(settings=env()).timeout == 7.5 and llm_settings(timeout=2, settings=env()).timeout == 2
    assert llm_settings(model="other", settings=env()).model == "other"
    with pytest.raises(ValueError, match="http"):
        llm_settings(url="127.0.0.1:11434")
    assert LLMSettings("http://user:secret@host:8000/v1").where == "http://host:8000/v1"


# --------------------------------------------------------------------------- qa.answer, for real


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_correct_answer_cites_the_right_passage(seed_index, llm, stream):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-good", api_key="test-key"), index=index, stream=stream)
    assert a.answered and a.generated and a.note == "" and a.unsupported == [] and a.model == "fake-good"
    assert "800名以上[1]" in a.text and "[2]" in a.text
    assert a.citations[1] == a.passages[0] and a.citations[2] == a.passages[1]
    assert "800" in a.passages[0].text
    chats = llm.chat_requests()
    assert len(chats) == 1 and [r["path"] for r in llm.requests] == ["/v1/chat/completions"]
    body = chats[0]["body"]
    assert body["model"] == "fake-good" and body["temperature"] == 0 and bool(body.get("stream")) is stream
    user = body["messages"][1]["content"]
    for n, p in enumerate(a.passages, 1):  # the passages, numbered in ranking order, with title and text
        assert f"[{n}] 标题：{p.title}" in user and p.text.strip() in user
    assert chats[0]["auth"] == "Bearer test-key"


@pytest.mark.slow
def test_the_stream_shows_only_checked_sentences(seed_index, llm):
    from qa.app.api import stream_answer

    _, index = seed_index
    parts = list(stream_answer(QUESTION, llm=settings(llm, "fake-mixed"), index=index))
    assert len(parts) >= 3 and all(not p.done for p in parts[:-1]) and parts[-1].done
    assert parts[0].text == "" and parts[0].sentences == [] and parts[0].model == "fake-mixed"
    counts = [len(p.sentences) for p in parts]
    assert counts == sorted(counts) and counts[-1] == 2
    assert all("9999" not in p.text for p in parts)  # never shown as an answer, not even for a moment
    assert parts[-1].unsupported[0].sentence.startswith("此外") and "9999" in parts[-1].unsupported[0].reason


@pytest.mark.slow
def test_a_made_up_number_is_struck_out(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-mixed"), index=index)
    assert a.generated and "800名以上[1]" in a.text and "9999" not in a.text
    assert [c.sentence for c in a.unsupported] == ["此外，当地还将新增9999名社会工作者[1]。"]
    assert a.unsupported[0].reason == "not in the cited passage [1]: 9999"
    assert [c.ok for c in a.sentences] == [True, False] and "left out" in a.note


@pytest.mark.slow
def test_nothing_left_gives_the_extractive_answer(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-invented"), index=index)
    top = a.passages[0]
    assert not a.generated and a.text == f"{top.answer}[1]" and a.citations == {1: top}
    assert len(a.unsupported) == 1 and "9999" in a.unsupported[0].sentence
    assert "no sentence of the model's answer passed the check" in a.note and "extractive" in a.note


@pytest.mark.slow
def test_a_marker_beyond_k(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, k=3, llm=settings(llm, "fake-beyond"), index=index)
    assert not a.generated and a.text.endswith("[1]") and len(a.passages) == 3
    assert a.unsupported[0].reason == "cites [4], but only 3 passages were retrieved"


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_reply(seed_index, llm, stream):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-empty"), index=index, stream=stream)
    assert not a.generated and a.text.endswith("[1]")
    assert a.note == f"the model at {llm.url} returned an empty answer; the extractive answer is shown"


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_a_server_that_hangs_times_out_with_bounded_retries(seed_index, llm, stream):
    import qa

    _, index = seed_index
    t0 = time.monotonic()
    a = qa.answer(QUESTION, llm=settings(llm, "fake-hang", timeout=1.0, max_retries=1), index=index, stream=stream)
    assert time.monotonic() - t0 < 15
    assert not a.generated and a.text.endswith("[1]")
    assert a.note == f"the model at {llm.url} did not answer within 1 s (2 attempts); the extractive answer is shown"
    assert len(llm.chat_requests()) == 2  # the first try and one retry, no more


@pytest.mark.slow
def test_a_stream_that_trickles_is_cut_off(seed_index, llm):
    import qa

    _, index = seed_index
    t0 = time.monotonic()  # each piece within the timeout, the whole far beyond 4 timeouts
    a = qa.answer(QUESTION, llm=settings(llm, "fake-trickle", timeout=0.5), index=index, stream=True)
    assert time.monotonic() - t0 < 10
    assert not a.generated and a.text.endswith("[1]") and "did not finish within 2 s" in a.note


@pytest.mark.slow
def test_bad_questions_raise_as_search_does_and_send_nothing(seed_index, llm):
    import qa

    _, index = seed_index
    with pytest.raises(ValueError, match="empty"):
        qa.answer("   ", llm=settings(llm, "fake-good"), index=index)
    with pytest.raises(ValueError):
        qa.answer(QUESTION, k=0, llm=settings(llm, "fake-good"), index=index)
    with pytest.raises(qa.IndexMissing):
        qa.answer(QUESTION, llm=settings(llm, "fake-good"), index=index.parent / "nowhere")
    assert llm.requests == []


@pytest.mark.slow
def test_a_server_error_is_retried_once_then_a_note(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-500", max_retries=1), index=index)
    assert not a.generated and a.text.endswith("[1]")
    assert "returned an error: HTTP 500 (the model crashed)" in a.note
    assert len(llm.chat_requests()) == 2


@pytest.mark.slow
def test_a_server_that_is_not_listening(seed_index):
    import qa

    _, index = seed_index
    url = f"http://127.0.0.1:{free_port()}/v1"
    t0 = time.monotonic()
    a = qa.answer(QUESTION, llm=LLMSettings(url, "any", timeout=2.0), index=index)
    assert time.monotonic() - t0 < 15
    assert not a.generated and a.text.endswith("[1]") and a.note.startswith(f"the model at {url} could not be reached")


@pytest.mark.slow
@pytest.mark.parametrize("stream", [False, True])
def test_garbage_instead_of_a_completion(seed_index, llm, stream):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-garbage"), index=index, stream=stream)
    assert not a.generated and a.text.endswith("[1]") and "is not a chat completion" in a.note


@pytest.mark.slow
def test_reasoning_is_dropped_and_no_answer_is_recognised(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=settings(llm, "fake-think"), index=index, stream=True)
    assert a.generated and "9999" not in a.text and "think" not in a.text and not a.unsupported
    a = qa.answer(QUESTION, llm=settings(llm, "fake-noanswer"), index=index)
    assert not a.generated and "found no answer in the passages" in a.note and a.text.endswith("[1]")


@pytest.mark.slow
def test_the_model_is_the_first_the_endpoint_lists_when_not_named(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=LLMSettings(llm.url), index=index)
    assert a.model == "fake-good" and a.generated
    assert [(r["method"], r["path"]) for r in llm.requests] == [("GET", "/v1/models"), ("POST", "/v1/chat/completions")]


@pytest.mark.slow
def test_an_unanswerable_question_is_not_sent(seed_index, llm):
    import qa

    _, index = seed_index
    a = qa.answer(UNANSWERABLE, llm=settings(llm, "fake-good"), index=index)
    assert a.answered is False and a.text == "" and not a.generated and a.citations == {}
    assert a.reason == "no bulletin mentions 苏州" and a.note.startswith("not sent to the model") and "苏州" in a.note
    assert llm.requests == []


@pytest.mark.slow
def test_settings_from_the_environment_reach_the_model(seed_index, llm, monkeypatch):
    import qa

    _, index = seed_index
    monkeypatch.setenv("BULLETIN_QA_LLM_URL", llm.url)
    monkeypatch.setenv("BULLETIN_QA_LLM_MODEL", "fake-good")
    monkeypatch.setenv("BULLETIN_QA_LLM_API_KEY", "env-key")
    a = qa.answer(QUESTION, index=index)
    assert a.generated and llm.chat_requests()[0]["auth"] == "Bearer env-key"


@pytest.mark.slow
def test_with_no_llm_settings_nothing_opens_a_network_connection(seed_index, no_llm_env, no_network, capsys):
    import qa
    from qa.app import cli

    _, index = seed_index
    qa.search(QUESTION, index=index)  # the index and the model loaded before the guard counts
    a = qa.answer(QUESTION, index=index)
    top = a.passages[0]
    assert not a.generated and a.text == f"{top.answer}[1]" and a.model == ""
    assert a.note.startswith("no model configured")
    assert cli.main(["ask", QUESTION, "--index", str(index)]) == 0
    assert f"{top.answer}[1]" in capsys.readouterr().out
    assert no_network == []
    with pytest.raises(OSError, match="test guard"):  # the guard does catch a connection
        socket.create_connection(("127.0.0.1", 9), timeout=1)


# --------------------------------------------------------------------------- the CLI


@pytest.mark.slow
def test_cli_ask_prints_the_answer_citations_and_struck_sentences(seed_index, llm, capsys):
    from qa.app import cli

    _, index = seed_index
    assert cli.main(["ask", QUESTION, "--index", str(index), "--llm-url", llm.url, "--llm-model", "fake-mixed"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "800名以上[1]" in lines[0] and "9999" not in lines[0]
    assert any(line.startswith("  [1] 甘肃酒泉") and "lines" in line for line in lines)
    assert any("✗ struck out: 此外，当地还将新增9999名社会工作者[1]。" in line and "9999" in line for line in lines)
    assert "written by fake-mixed, checked" in out and "note: 1 sentence" in out


@pytest.mark.slow
def test_cli_ask_json_gives_the_whole_answer(seed_index, llm, capsys):
    from qa.app import cli

    _, index = seed_index
    assert cli.main(["ask", QUESTION, "--json", "-k", "3", "--index", str(index), "--llm-url", llm.url,
                     "--llm-model", "fake-beyond"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"text", "citations", "passages", "generated", "answered", "unsupported", "note", "model"} <= set(out)
    assert out["generated"] is False and out["answered"] is True and len(out["passages"]) == 3
    assert out["unsupported"][0]["reason"] == "cites [4], but only 3 passages were retrieved"
    assert set(out["citations"]) == {"1"} and out["citations"]["1"]["rank"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("model, note", [("fake-hang", "did not answer within 1 s"), ("fake-500", "HTTP 500"),
                                         ("fake-empty", "empty answer"), ("fake-invented", "passed the check")])
def test_cli_ask_failures_are_a_note_not_an_error(seed_index, llm, capsys, model, note):
    from qa.app import cli

    _, index = seed_index
    assert cli.main(["ask", QUESTION, "--index", str(index), "--llm-url", llm.url, "--llm-model", model,
                     "--llm-timeout", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith("[1]") and "the answering sentence of the best passage" in out
    assert note in out and "Traceback" not in out


@pytest.mark.slow
def test_cli_ask_unanswerable_and_not_listening(seed_index, llm, capsys):
    from qa.app import cli

    _, index = seed_index
    assert cli.main(["ask", UNANSWERABLE, "--index", str(index), "--llm-url", llm.url, "--llm-model", "fake-good"]) == 0
    assert capsys.readouterr().out.startswith("not answered: no bulletin mentions 苏州")
    assert llm.requests == []
    url = f"http://127.0.0.1:{free_port()}/v1"
    assert cli.main(["ask", QUESTION, "--index", str(index), "--llm-url", url, "--llm-model", "x"]) == 0
    assert "could not be reached" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_ask_in_a_fresh_process_with_the_settings_in_the_environment(seed_index, llm):
    _, index = seed_index
    env = os.environ | {"BULLETIN_QA_LLM_URL": llm.url, "BULLETIN_QA_LLM_MODEL": "fake-good",
                        "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    r = subprocess.run([sys.executable, "-m", "qa.app.cli", "ask", QUESTION, "--json", "--index", str(index)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["generated"] is True and out["model"] == "fake-good" and "800名以上[1]" in out["text"]
    assert len(llm.chat_requests()) == 1


@pytest.mark.slow
def test_eval_answers_reports_checked_and_key_shares(seed_index, llm, tmp_path, capsys):
    from qa.app import cli

    _, index = seed_index
    qs = tmp_path / "questions.jsonl"
    qs.write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in [
        {"id": "a1", "q": QUESTION, "keys": ["800名以上"]},
        {"id": "a2", "q": "宣城 社会工作人才总量 2027年目标", "keys": ["1万人"]},
        {"id": "u1", "q": UNANSWERABLE}]), encoding="utf-8")
    figures = {}
    for model in ("fake-good", "fake-mixed"):
        out = tmp_path / f"{model}.json"
        assert cli.main(["eval", str(qs), "--answers", "--index", str(index), "--llm-url", llm.url,
                         "--llm-model", model, "--json", str(out)]) == 0
        figures[model] = json.loads(out.read_text())["questions"]["figures"]
    printed = capsys.readouterr().out
    assert "every sentence passed" in printed and "contain a key" in printed and "| questions | fake-mixed |" in printed
    assert "✗ 此外，当地还将新增9999名社会工作者[1]。" in printed
    good, mixed = figures["fake-good"], figures["fake-mixed"]
    assert good["sent"] == pytest.approx(2 / 3) and good["model_answers"] == 2
    assert good["all_passed"] == 1.0 and good["with_key"] == 1.0 and good["cites_key"] == 1.0
    assert mixed["all_passed"] == 0.0 and mixed["with_key"] == 1.0
    assert len(llm.chat_requests()) == 4  # two answerable questions, twice; the near miss never


# --------------------------------------------------------------------------- the page


CASES = {  # model -> what the final answer area must say
    "fake-good": "Written by <b>fake-good</b>",
    "fake-mixed": 'class="qa-unsupported"',
    "fake-invented": "no sentence of the model&#x27;s answer passed the check",
    "fake-beyond": "cites [4], but only 3 passages were retrieved",
    "fake-empty": "returned an empty answer",
    "fake-hang": "did not answer within 1 s",
    "fake-500": "HTTP 500",
}


@pytest.mark.slow
@pytest.mark.parametrize("model", list(CASES))
def test_page_streams_the_checked_answer_above_the_cards(seed_index, llm, model, index_of):
    from qa.app.web import handlers, render, server  # noqa: F401

    _, index = seed_index
    states = list(handlers.ask_llm(QUESTION, 3, "hybrid", None, index_of(index), settings(llm, model, timeout=1.0)))
    answer, cards = states[-1]
    assert CASES[model] in answer and "Traceback" not in answer
    assert cards.count('class="qa-card"') == 3 and all(c == cards for _a, c in states)  # cards from the first yield
    assert 'href="#qa-card-1"' in answer
    if model in ("fake-good", "fake-mixed"):
        assert len(states) >= 3 and "is writing" in states[0][0] and "qa-llm-writing" not in answer
        assert f"<b>{model}</b>" in answer
    for html_, _c in states:  # the made-up figure only ever inside a struck-through sentence or its warning
        assert "9999" not in re.sub(r'<del [^>]*>.*?</del>|<span class="qa-warn">.*?</span>', "", html_)


@pytest.mark.slow
def test_page_unanswerable_and_not_listening(seed_index, llm, index_of):
    from qa.app.web import handlers, render, server  # noqa: F401

    _, index = seed_index
    [(answer, cards)] = list(handlers.ask_llm(UNANSWERABLE, 3, "hybrid", None, index_of(index), settings(llm, "fake-good")))
    assert "do not seem to answer" in answer and "苏州" in answer and "nearest, not an answer" in cards
    assert llm.requests == []
    url = f"http://127.0.0.1:{free_port()}/v1"
    answer, _cards = list(handlers.ask_llm(QUESTION, 3, "hybrid", None, index_of(index), LLMSettings(url, "x")))[-1]
    assert "could not be reached" in answer and 'href="#qa-card-1"' in answer


def test_model_output_is_escaped_on_the_page():
    from qa.app.web import handlers, render, server  # noqa: F401
    from qa.generate.llm import Answer, Checked

    a = Answer("q", text="<b>x</b>[1]", passages=[JIUQUAN], answered=True, generated=True, model="<i>m</i>",
               sentences=[Checked("<script>alert(1)</script>[1]", [1]), Checked("<img src=x>[7]", [7], False, "cites [7]")])
    html_ = render.render_generated("q", a, {"passages": [JIUQUAN], "answered": True})
    assert "<script>" not in html_ and "<img" not in html_ and "<i>m</i>" not in html_
    assert "&lt;script&gt;" in html_ and '<span class="qa-cite-bad">[7]</span>' in html_


@pytest.mark.slow
def test_served_page_with_a_model_answers_at_answer_and_without_is_unchanged(tmp_path_factory, seed_index, fake_llm):
    from gradio_client import Client

    plain, url, *_ = serve_seed_copy(tmp_path_factory, seed_index, "plain")
    try:
        assert "/answer" not in Client(url, verbose=False).view_api(print_info=False, return_format="dict")["named_endpoints"]
    finally:
        plain.close()
    demo, url, *_ = serve_seed_copy(tmp_path_factory, seed_index, "with-llm", llm=settings(fake_llm, "fake-mixed"))
    try:
        client = Client(url, verbose=False)
        out = client.predict(QUESTION, 5, "hybrid", None, api_name="/answer")
        assert out["generated"] is True and "9999" not in out["text"] and out["model"] == "fake-mixed"
        assert out["unsupported"][0]["reason"] == "not in the cited passage [1]: 9999"
        out = client.predict(UNANSWERABLE, 5, "hybrid", None, api_name="/answer")
        assert out["answered"] is False and out["text"] == ""
        assert client.predict(QUESTION, 3, "hybrid", None, api_name="/search")  # unchanged beside it
    finally:
        demo.close()


# --------------------------------------------------------------------------- a real model, if there is one

LOCAL = os.environ.get("BULLETIN_QA_TEST_LLM_URL")  # e.g. http://127.0.0.1:11434/v1 with Ollama running


@pytest.mark.slow
@pytest.mark.skipif(not LOCAL, reason="set BULLETIN_QA_TEST_LLM_URL (and BULLETIN_QA_TEST_LLM_MODEL) to a local "
                                      "Ollama / llama.cpp server to run this; CI does not need one")
def test_a_local_model_if_one_is_running(seed_index):
    import qa

    _, index = seed_index
    a = qa.answer(QUESTION, llm=LLMSettings(LOCAL, os.environ.get("BULLETIN_QA_TEST_LLM_MODEL", ""), timeout=120),
                  index=index, stream=True)
    assert a.answered and a.text and "[1]" in a.text
    assert all(c.ok for c in a.sentences if c.sentence in a.text)


def test_page_and_cli_refuse_a_model_url_without_a_scheme(capsys):
    from qa.app.web import handlers, render, server  # noqa: F401
    from qa.app import cli

    assert server.main(["--llm-url", "127.0.0.1:11434", "--port", str(free_port())]) == 2
    assert "http://" in capsys.readouterr().err
    assert cli.main(["ask", "x", "--llm-url", "127.0.0.1:11434"]) == 2
    args = cli.build_parser().parse_args(["serve", "--llm-url", "http://127.0.0.1:1/v1", "--llm-model", "m"])
    assert (args.llm_url, args.llm_model) == ("http://127.0.0.1:1/v1", "m")
