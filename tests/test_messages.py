"""Messages in two languages (qa/messages.py): every code is made in one place of the package,
with both templates naming the same arguments; a Msg survives pickling (the reading worker sends
its errors through a pipe) and says nested messages in the same language.  No model."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

from qa.messages import Msg, fields, in_lang, of_exception

QA = Path(__file__).resolve().parents[1] / "qa"


def made() -> list[tuple[str, str, str, str]]:
    """(code, English, Chinese, where) of every ``Msg("code", "en", "zh", ...)`` written in qa/."""
    out = []
    for f in sorted(QA.rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Msg":
                consts = [a.value if isinstance(a, ast.Constant) else None for a in node.args[:3]]
                where = f"{f.relative_to(QA.parent)}:{node.lineno}"
                assert len(consts) == 3 and all(isinstance(c, str) for c in consts), \
                    f"{where}: Msg takes a literal code, English and Chinese template"
                out.append((*consts, where))
    return out


def test_every_code_is_made_once_with_matching_templates():
    seen: dict[str, str] = {}
    for code, en, zh, where in made():
        assert code not in seen, f"{code} is made at {seen[code]} and at {where}"
        seen[code] = where
        assert fields(en) == fields(zh), f"{where}: {code} formats {fields(en)} in English, {fields(zh)} in Chinese"
        assert zh.strip() and any("\u4e00" <= c <= "\u9fff" for c in zh), f"{where}: {code} has no Chinese"


def test_a_msg_is_its_english_text_and_says_itself_in_chinese():
    m = Msg("t.absent", "no bulletin mentions {what}", "没有哪份简报提到 {what}", what="苏州")
    assert m == "no bulletin mentions 苏州" and isinstance(m, str)
    assert m.in_lang("zh") == "没有哪份简报提到 苏州" and m.in_lang("en") == str(m)
    note = Msg("t.note", "not sent ({reason})", "未发送（{reason}）", reason=m)
    assert note.in_lang("zh") == "未发送（没有哪份简报提到 苏州）" and note == "not sent (no bulletin mentions 苏州)"
    assert in_lang("plain", "zh") == "plain"


def test_a_msg_survives_pickling_and_exceptions():
    m = Msg("t.size", "{name}: {size} is too large", "{name}：{size} 太大", name="a.pdf", size="6 MB")
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.code == "t.size" and back.in_lang("zh") == "a.pdf：6 MB 太大"
    e = ValueError(m)
    assert str(e) == str(m) and of_exception(e).in_lang("zh") == "a.pdf：6 MB 太大"
    assert of_exception(ValueError("plain")) == "plain"
