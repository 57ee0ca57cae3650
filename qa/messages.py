"""Messages people read, in both of the page's languages, with a code.

A :class:`Msg` is a ``str``: its English text, so everything that prints, logs, compares or
raises it works as before (the CLI and ``qa.search()``'s ``reason`` stay English).  It also
carries a ``code`` (``"verdict.absent"``), its arguments, and its Chinese template, so the page
says it in Chinese by formatting the template, never by parsing the English::

    >>> m = Msg("verdict.absent", "no bulletin mentions {what}", "没有哪份简报提到 {what}", what="苏州")
    >>> str(m), m.code, m.in_lang("zh")
    ('no bulletin mentions 苏州', 'verdict.absent', '没有哪份简报提到 苏州')

An argument that is itself a :class:`Msg` is said in the same language (a reason inside a
note).  Both templates sit where the message is made; tests/test_messages.py checks that every
code is made in one place and that both templates name the same arguments.

An exception carries its message as its first argument (``ValueError(Msg(...))``):
:func:`of_exception` gives it back, a :class:`Msg` when one was raised.  No project imports:
any stage may use it.
"""

from __future__ import annotations

from string import Formatter


class Msg(str):
    """English text with a code, its arguments and its Chinese template (see the module)."""

    code: str
    args: dict
    zh: str

    def __new__(cls, code: str, en: str, zh: str, **args):
        obj = super().__new__(cls, en.format(**args) if args else en)
        obj.code, obj.zh, obj.args = code, zh, args
        return obj

    def __reduce__(self):  # through pickle (the reading worker's replies) with its code and arguments
        return _remake, (str(self), self.code, self.zh, self.args)

    def in_lang(self, lang: str) -> str:
        """The message in ``lang`` ("zh", else English)."""
        if lang != "zh":
            return str(self)
        args = {k: in_lang(v, lang) for k, v in self.args.items()}
        return self.zh.format(**args) if args else self.zh


def _remake(text: str, code: str, zh: str, args: dict) -> Msg:
    obj = str.__new__(Msg, text)
    obj.code, obj.zh, obj.args = code, zh, args
    return obj


def in_lang(message, lang: str) -> str:
    """Any message in ``lang``: a :class:`Msg` by its template; anything else as it is (a file
    name, a number, a library's own error text)."""
    return message.in_lang(lang) if isinstance(message, Msg) else str(message)


def of_exception(e: BaseException):
    """The message an exception was raised with: its :class:`Msg` if it carries one, else its text."""
    first = e.args[0] if getattr(e, "args", None) else None
    return first if isinstance(first, Msg) else str(e)


def fields(template: str) -> set[str]:
    """The names a template formats (``{what}`` -> {"what"})."""
    return {name.split(".")[0].split("[")[0] for _lit, name, _spec, _conv in Formatter().parse(template) if name}
