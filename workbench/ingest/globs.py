"""Shell-style globs over object keys and Drive file names, where `/` separates folders:
`*` and `?` stay within one folder, `**` crosses folders, `[abc]` / `[!abc]` are sets."""

from __future__ import annotations

import re

GLOB_CHARS = frozenset("*?[")


def has_glob(text: str) -> bool:
    return bool(GLOB_CHARS & set(text))


def literal_prefix(pattern: str) -> str:
    """The part before the first glob character: what an object store can list by prefix."""
    cut = min((pattern.index(c) for c in GLOB_CHARS if c in pattern), default=len(pattern))
    return pattern[:cut]


def glob_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            parts.append(".*")
            i += 2
            continue
        char = pattern[i]
        close = pattern.find("]", i + 2) if char == "[" else -1
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif close > 0:
            body = pattern[i + 1 : close]
            negated = body.startswith("!")
            body = re.escape(body[1:] if negated else body).replace("\\-", "-")
            parts.append(f"[{'^' if negated else ''}{body}]")
            i = close + 1
            continue
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL)
