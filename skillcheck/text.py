"""Text from outside made safe where it enters: model answers, report files, the catalog.

Python strings may hold what no database or UTF-8 file accepts: a lone surrogate
(``\\ud800``, from a JSON escape or a YAML one) cannot be encoded as UTF-8, and NUL
(``\\u0000``) is refused by PostgreSQL text columns. A skill under audit can steer a model
into writing either, so every string from an answer, a report or a catalog goes through
``clean_text`` once, on its way in, and everything after that can store and print it.
"""

from __future__ import annotations

from typing import Any

REPLACEMENT = "\ufffd"  # U+FFFD REPLACEMENT CHARACTER, what decoders put for bad input


def clean_text(value: str) -> str:
    """``value`` with NUL and every lone surrogate replaced by U+FFFD.

    A surrogate pair held as two code points (``"\\ud83d\\ude00"``) becomes the character it
    encodes; a high or low surrogate without its partner becomes U+FFFD. Other text is
    returned unchanged (the same object).
    """
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return value


def clean_data(value: Any) -> Any:
    """``clean_text`` applied to every string in nested dicts and lists (keys included).

    Containers are cleaned in place (a dict keeps its identity, its order and any attribute
    such as the catalog's line numbers) and returned. Iterative, so depth is no limit, and
    each container is visited once, so YAML's shared and recursive nodes are fine.
    """
    if isinstance(value, str):
        return clean_text(value)
    pending = [value]
    seen: set[int] = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, dict):
            items = list(node.items())
            if any(isinstance(k, str) and clean_text(k) is not k for k, _ in items):
                node.clear()
                node.update((clean_text(k) if isinstance(k, str) else k, v) for k, v in items)
            for key, item in node.items():
                if isinstance(item, str):
                    node[key] = clean_text(item)
                elif isinstance(item, dict | list):
                    pending.append(item)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = clean_text(item)
                elif isinstance(item, dict | list):
                    pending.append(item)
    return value
