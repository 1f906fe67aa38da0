"""Assignments in the shell-sourced configuration files (``/etc/default/grub``, mkinitcpio.conf,
dracut.conf, ``/etc/default/limine``): found with their exact byte spans, and evaluated the way
bash would for the plain cases these files use (quotes, ``$VAR``/``${VAR}``, ``+=``, arrays and
``${ARR[@]}``). Anything else (command substitution, loops) makes the value unknown rather than
guessed; the tests hold every result against bash itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_START = re.compile(
    r"^[ \t]*(?:export[ \t]+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]\n]*\])?)(?P<op>\+?=)", re.M
)
_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<index>\[[@*]\])?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)

Value = str | list[str] | None  # a scalar, an array, or unknown


@dataclass(frozen=True)
class Assignment:
    name: str  # "GRUB_CMDLINE_LINUX", "KERNEL_CMDLINE[default]"
    append: bool  # "+="
    line_start: int  # offset of the line's first byte
    start: int  # offset of the value's first byte
    end: int  # offset just past the value
    quote: str  # '"' or "'" for one quoted word, "" for a plain word, "(" for an array, "?" otherwise

    def inner(self, text: str) -> tuple[int, int]:
        """The span inside the quotes (or the whole plain word)."""
        if self.quote in ('"', "'"):
            return self.start + 1, self.end - 1
        return self.start, self.end


def _word_end(text: str, pos: int) -> int:
    """Where the shell word starting at ``pos`` ends (unquoted blank, ``;``, newline)."""
    quote = ""
    while pos < len(text):
        char = text[pos]
        if quote:
            if char == "\\" and quote == '"':
                pos += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char == "\\":
            pos += 2
            continue
        elif char in " \t\n;&|)":
            return pos
        pos += 1
    return len(text)


def _array_end(text: str, pos: int) -> int:
    """``pos`` is at "("; the offset just past the matching ")" (arrays may span lines)."""
    depth, quote, i = 0, "", pos
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#" and (i == 0 or text[i - 1] in " \t\n("):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def assignments(text: str) -> list[Assignment]:
    found: list[Assignment] = []
    for match in _START.finditer(text):
        start = match.end()
        if start < len(text) and text[start] == "(":
            end, quote = _array_end(text, start), "("
        else:
            end = _word_end(text, start)
            raw = text[start:end]
            if raw == "":
                quote = ""
            elif len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0] and _word_end(text, start) == end:
                single = raw[0] not in raw[1:-1] if raw[0] == "'" else _closing(raw) == len(raw) - 1
                quote = raw[0] if single else "?"
            elif raw and not any(c in raw for c in "\"'`\\"):
                quote = ""
            else:
                quote = "?"
        found.append(
            Assignment(
                name=match.group("name"),
                append=match.group("op") == "+=",
                line_start=match.start() + (len(match.group(0)) - len(match.group(0).lstrip(" \t"))),
                start=start,
                end=end,
                quote=quote,
            )
        )
    return found


def _closing(raw: str) -> int:
    """Index of the double quote that closes the one at raw[0]."""
    i = 1
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == '"':
            return i
        i += 1
    return -1


def _expand(text: str, env: dict[str, Value], *, split: bool) -> list[str] | None:
    """Expand ``$VAR`` in ``text``; with ``split`` an array or unquoted scalar becomes words."""
    if "`" in text or "$(" in text:
        return None
    pieces: list[str] = []
    last = 0
    words: list[str] | None = None
    for match in _VAR.finditer(text):
        name = match.group("braced") or match.group("plain")
        value = env.get(name, "")
        if value is None:
            return None
        pieces.append(text[last : match.start()])
        if isinstance(value, list):
            if match.group("index") and split:
                words = [*(words or []), *value]
                last = match.end()
                continue
            value = value[0] if value and not match.group("index") else " ".join(value)
        pieces.append(value)
        last = match.end()
    pieces.append(text[last:])
    joined = "".join(pieces)
    if words is not None:
        extra = joined.split() if split else [joined]
        return words + [w for w in extra if w]
    return joined.split() if split else [joined]


def _word_value(word: str, env: dict[str, Value]) -> str | None:
    """A scalar word's value: quotes removed, variables expanded (no splitting)."""
    out: list[str] = []
    i = 0
    while i < len(word):
        char = word[i]
        if char == "'":
            close = word.find("'", i + 1)
            if close < 0:
                return None
            out.append(word[i + 1 : close])
            i = close + 1
        elif char == '"':
            close = _closing(word[i:])
            if close < 0:
                return None
            expanded = _expand(word[i + 1 : i + close].replace('\\"', '"'), env, split=False)
            if expanded is None:
                return None
            out.append(expanded[0])
            i += close + 1
        else:
            j = i
            while j < len(word) and word[j] not in "'\"":
                j += 1
            expanded = _expand(word[i:j], env, split=False)
            if expanded is None:
                return None
            out.append(expanded[0])
            i = j
    return "".join(out)


def _array_value(body: str, env: dict[str, Value]) -> list[str] | None:
    items: list[str] = []
    pos = 0
    body = re.sub(r"(^|\s)#[^\n]*", r"\1", body)
    while pos < len(body):
        if body[pos].isspace():
            pos += 1
            continue
        end = _word_end(body, pos)
        word = body[pos:end]
        pos = max(end, pos + 1)
        if word.startswith(("'", '"')):
            value = _word_value(word, env)
            if value is None:
                return None
            items.extend(_expand(word[1:-1], env, split=True) or [] if word[0] == '"' else [value])
        else:
            expanded = _expand(word, env, split=True)
            if expanded is None:
                return None
            items.extend(expanded)
    return items


def evaluate(text: str, env: dict[str, Value] | None = None) -> dict[str, Value]:
    """The variables after sourcing ``text`` on top of ``env`` (which is not changed)."""
    result: dict[str, Value] = dict(env or {})
    for item in assignments(text):
        raw = text[item.start : item.end]
        value: Value = _array_value(raw[1:-1], result) if item.quote == "(" else _word_value(raw, result)
        name = item.name
        if item.append and value is not None:
            old = result.get(name, "")
            if old is None:
                value = None
            elif isinstance(old, list) or isinstance(value, list):
                old_list = old if isinstance(old, list) else ([old] if old else [])
                value = old_list + (value if isinstance(value, list) else [value])
            else:
                value = old + value
        result[name] = value
    return result


def as_words(value: Value) -> list[str] | None:
    """A variable as the list of words a tool splits it into."""
    if value is None:
        return None
    if isinstance(value, list):
        return [w for item in value for w in item.split()]
    return value.split()


def last_assignment(text: str, name: str) -> Assignment | None:
    found = [a for a in assignments(text) if a.name == name]
    return found[-1] if found else None
