"""expr-lang (the language of Argo's `{{= }}` tags and retry expressions), for the subset the
chart uses: and/or/not, == != in, `not in`, string +, ternaries `c ? a : b` (chained to the
right, `c1 ? a : c2 ? b : d`, as expr-lang parses them), member access, string/int literals,
list literals and asInt. Anything else is rejected, so a new construct
makes the tests fail until someone has read what expr-lang does with it.

argo-workflows v4.1.2 builds the environment with util/expr/env/env.go:20-30 (GetFuncMap:
dotted keys such as "workflow.parameters.layer" expanded into nested maps, `asInt` =
expr's builtin int) and evaluates with github.com/expr-lang/expr (util/expr/argoexpr/eval.go:9).
"""

from __future__ import annotations

import ast
import re
from typing import Any


def expand(flat: dict[str, Any]) -> dict[str, Any]:
    """util/expand.Expand: {"a.b": 1} -> {"a": {"b": 1}}."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _top_level(expression: str) -> list[tuple[int, str]]:
    """(index, character) of each `?` and `:` outside brackets and string literals."""
    found, depth, quote = [], 0, ""
    for index, char in enumerate(expression):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in "?:":
            found.append((index, char))
    return found


def _to_python(expression: str) -> str:
    """expr-lang's ternary is right-associative and binds loosest: split at the first top-level
    `?` and the `:` that closes it, then convert both branches the same way."""
    if "&&" in expression or "||" in expression or "??" in expression:
        raise ValueError("use and/or (the emulated subset), not &&, || or ??")
    marks = _top_level(expression)
    if not marks:
        if "?" in expression:
            raise ValueError("a ternary inside brackets is not emulated")
        return expression
    if marks[0][1] != "?":
        raise ValueError(f"unexpected ':' in {expression!r}")
    open_ternaries = 0
    for index, char in marks:
        open_ternaries += 1 if char == "?" else -1
        if open_ternaries == 0:
            cond, then = expression[: marks[0][0]], expression[marks[0][0] + 1 : index]
            rest = expression[index + 1 :]
            return f"({_to_python(then)}) if ({_to_python(cond)}) else ({_to_python(rest)})"
    raise ValueError(f"a ternary without its ':' in {expression!r}")


def _eval(node: ast.AST, scope: dict[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, scope)
    if isinstance(node, ast.IfExp):
        condition = _eval(node.test, scope)
        if not isinstance(condition, bool):
            raise ValueError("a ternary condition must be a bool in expr-lang")
        return _eval(node.body if condition else node.orelse, scope)
    if isinstance(node, ast.BoolOp):
        values = [_eval(value, scope) for value in node.values]
        if not all(isinstance(v, bool) for v in values):
            raise ValueError("and/or take bools in expr-lang")
        return any(values) if isinstance(node.op, ast.Or) else all(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _eval(node.operand, scope)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if not (isinstance(left, str) and isinstance(right, str)):
            raise ValueError("only string + string is emulated")
        return left + right
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _eval(node.left, scope), _eval(node.comparators[0], scope)
        op = node.ops[0]
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(right, list):
                raise ValueError("`in` is emulated for list literals only")
            return (left in right) is isinstance(op, ast.In)
        if isinstance(op, ast.Eq | ast.NotEq):
            return (left == right) is isinstance(op, ast.Eq)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id != "asInt" or len(node.args) != 1:
            raise ValueError(f"function {node.func.id} is not emulated")
        return int(_eval(node.args[0], scope))
    if isinstance(node, ast.Attribute):
        return _eval(node.value, scope)[node.attr]
    if isinstance(node, ast.Name):
        return scope[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return node.value
    if isinstance(node, ast.List):
        return [_eval(item, scope) for item in node.elts]
    raise ValueError(f"expression construct {ast.dump(node)} is not emulated")


def evaluate(expression: str, flat_scope: dict[str, Any]) -> Any:
    return _eval(ast.parse(_to_python(expression.strip()), mode="eval"), expand(flat_scope))


_TAG = re.compile(r"\{\{=(.*?)\}\}", re.S)


def replace_expression_tags(text: str, flat_scope: dict[str, Any]) -> str:
    """util/template: each `{{= expr }}` tag replaced by its value (kind "=", template.go:42-43)."""
    return _TAG.sub(lambda match: str(evaluate(match.group(1), flat_scope)), text)
