"""Placeholders for Helm expressions inside objects built with Hera.

Hera builds plain Argo objects; a field that must come from the chart's values holds a
marker instead. A marker is a bare YAML-safe token that carries its Helm expression
(base32-encoded, so no registry or global state is needed). After the objects are dumped
to YAML, :func:`expand` swaps each marker for ``{{ expression }}``.

- :func:`value` stands for a whole YAML value; its expression must print valid YAML
  itself (``| quote`` for strings, ``| int`` for numbers, ``toJson`` for maps and lists —
  JSON is YAML flow style, so no indentation bookkeeping is needed).
- :func:`text` stands for text inside a larger string; the renderer double-quotes such
  strings, so its expression must print plain text without quotes or backslashes.
- :func:`when` is a mapping *key* whose value (a mapping) is spliced into the parent mapping
  only when its condition holds: ``{{- if condition }}`` ... ``{{- end }}`` around its lines,
  which render to nothing at all otherwise.
"""

from __future__ import annotations

import base64
import re

_PREFIX = "HELMx"
_SUFFIX = "x"
# base32 uses A-Z and 2-7 only, so a lower-case 'x' ends the token unambiguously.
_MARKER = re.compile(_PREFIX + r"([A-Z2-7]+)" + _SUFFIX)


def _encode(expression: str) -> str:
    token = base64.b32encode(expression.encode()).decode().rstrip("=")
    return f"{_PREFIX}{token}{_SUFFIX}"


def _decode(token: str) -> str:
    padding = "=" * (-len(token) % 8)
    return base64.b32decode(token + padding).decode()


def value(expression: str) -> str:
    """A whole YAML value computed by Helm, e.g. ``value('.Values.image.pullPolicy | quote')``."""
    return _encode(expression)


def text(expression: str) -> str:
    """Plain text computed by Helm inside a string, e.g. a name prefix."""
    return _encode(expression)


_WHEN_PREFIX = "HELMIFx"
_WHEN = re.compile(
    r"^(?P<indent> *)" + _WHEN_PREFIX + r"(?P<token>[A-Z2-7]+)" + _SUFFIX + r":\n"
    r"(?P<body>(?:(?P=indent)  .*\n)+)",
    re.MULTILINE,
)


def when(condition: str) -> str:
    """A key whose mapping joins its parent only when the Helm condition holds."""
    return _WHEN_PREFIX + _encode(condition).removeprefix(_PREFIX)


def _expand_when(match: re.Match[str]) -> str:
    indent = match.group("indent")
    lines = match.group("body").splitlines(keepends=True)
    body = "".join(indent + line[len(indent) + 2 :] for line in lines)
    condition = _decode(match.group("token"))
    return "{{- if " + condition + " }}\n" + body + "{{- end }}\n"


def contains_marker(candidate: str) -> bool:
    return _MARKER.search(candidate) is not None


def is_whole_marker(candidate: str) -> bool:
    return _MARKER.fullmatch(candidate) is not None


def expand(document: str) -> str:
    """Replace every marker with its Helm action ``{{ expression }}``, every :func:`when` key
    with its Helm ``if`` block."""
    document = _WHEN.sub(_expand_when, document)
    if _WHEN_PREFIX in document:
        raise ValueError("a conditional key (helm.when) must hold a non-empty mapping")
    return _MARKER.sub(lambda match: "{{ " + _decode(match.group(1)) + " }}", document)


def escape_argo(document: str) -> str:
    """Make Argo's own ``{{...}}`` expressions pass through Helm unchanged.

    Each becomes a Go-template raw string action: {{`{{workflow.name}}`}} prints
    {{workflow.name}} byte for byte. Must run before :func:`expand`.
    """
    if "`" in document:
        raise ValueError("a backtick in a workflow manifest would break Helm raw strings")
    return re.sub(r"\{\{.*?\}\}", lambda match: "{{`" + match.group(0) + "`}}", document)


# Expressions shared by the generated templates (helpers live in _helpers.tpl).
FULLNAME = 'include "dbt-workbench.fullname" .'


def fullname_value(suffix: str = "") -> str:
    if suffix:
        return value(f'printf "%s-{suffix}" ({FULLNAME}) | quote')
    return value(f"{FULLNAME} | quote")
