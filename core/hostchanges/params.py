"""Kernel command-line parameters: tokenised the way the kernel splits them, compared by key.

The kernel splits on whitespace outside double quotes, and treats ``-`` and ``_`` in a
parameter's name as the same (``vfio-pci.ids`` is ``vfio_pci.ids``). A wanted ``key=value`` is
present when a token with that key lists the value among its comma-separated values
(``intel_iommu=on,igfx_off`` has ``intel_iommu=on``); ``amd_iommu=pt`` is never ``iommu=pt``.
"""

from __future__ import annotations

from collections.abc import Iterable


def tokens(cmdline: str) -> list[str]:
    """Whitespace-separated parameters; a double-quoted stretch stays inside its token."""
    out: list[str] = []
    current: list[str] = []
    quoted = False
    for char in cmdline:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char.isspace() and not quoted:
            if current:
                out.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        out.append("".join(current))
    return out


def key_of(token: str) -> str:
    name = token.split("=", 1)[0]
    return name.replace("-", "_")


def values_of(token: str) -> list[str]:
    if "=" not in token:
        return []
    return token.split("=", 1)[1].strip('"').split(",")


def has_param(present: Iterable[str], wanted: str) -> bool:
    """``wanted`` ("iommu=pt" or a bare flag) is satisfied by one of ``present``'s tokens."""
    key = key_of(wanted)
    want_values = values_of(wanted)
    for token in present:
        if key_of(token) != key:
            continue
        if not want_values or all(v in values_of(token) for v in want_values):
            return True
    return False


def missing(cmdline_tokens: Iterable[str], wanted: Iterable[str]) -> list[str]:
    present = list(cmdline_tokens)
    return [w for w in wanted if not has_param(present, w)]


def append_to_span(text: str, params: list[str]) -> str:
    """``text`` (the inside of a quoted value, or a whole cmdline file) with ``params`` added
    after its last parameter: every byte before and after (trailing blanks, newline) is kept."""
    if not params:
        return text
    end = len(text.rstrip())
    joined = " ".join(params)
    if end == 0:
        return joined + text
    return text[:end] + " " + joined + text[end:]


def remove_from_span(text: str, drop: Iterable[str]) -> str:
    """``text`` without the tokens equal to one of ``drop`` (and the blank before each)."""
    result = text
    for token in drop:
        result = _remove_token(result, token)
    return result


def _remove_token(text: str, token: str) -> str:
    start = 0
    while True:
        at = text.find(token, start)
        if at < 0:
            return text
        end = at + len(token)
        before_ok = at == 0 or text[at - 1].isspace()
        after_ok = end == len(text) or text[end].isspace()
        if before_ok and after_ok:
            cut_from = at
            while cut_from > 0 and text[cut_from - 1] in " \t":
                cut_from -= 1
            if cut_from == 0:
                while end < len(text) and text[end] in " \t":
                    end += 1
            return text[:cut_from] + text[end:]
        start = end


def merge_list_value(token: str, extra: Iterable[str]) -> str:
    """``vfio-pci.ids=a,b`` + [c] -> ``vfio-pci.ids=a,b,c``: the values kept in order, new ones after."""
    name, _, value = token.partition("=")
    values = [v for v in value.split(",") if v]
    for item in extra:
        if item not in values:
            values.append(item)
    return f"{name}={','.join(values)}"


# Parameters where only the last occurrence counts and we own the whole value (a list we merge).
SET_KEYS = frozenset({"vfio_pci.ids"})


def is_set_param(param: str) -> bool:
    return key_of(param) in SET_KEYS


def satisfied(present: list[str], param: str) -> bool:
    """An "add" parameter is there by key and value; a "set" one is the last of its key, exactly."""
    if not is_set_param(param):
        return has_param(present, param)
    same = [t for t in present if key_of(t) == key_of(param)]
    return bool(same) and values_of(same[-1]) == values_of(param)


def ensure_in_span(text: str, params: list[str]) -> str:
    """``text`` with every parameter satisfied: "set" ones replace the last token of their key in
    place (or are appended), "add" ones are appended when missing."""
    result = text
    for param in params:
        present = tokens(result)
        if satisfied(present, param):
            continue
        if is_set_param(param):
            same = [t for t in present if key_of(t) == key_of(param)]
            if same:
                result = _replace_last(result, same[-1], param)
                continue
        result = append_to_span(result, [param])
    return result


def _replace_last(text: str, old: str, new: str) -> str:
    at = len(text)
    while True:
        at = text.rfind(old, 0, at)
        if at < 0:
            return text
        end = at + len(old)
        if (at == 0 or text[at - 1].isspace()) and (end == len(text) or text[end].isspace()):
            return text[:at] + new + text[end:]
