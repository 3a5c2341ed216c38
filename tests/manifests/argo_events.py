"""What Argo Events does with a webhook request, from the request to the Workflow object the
argoWorkflow trigger hands to `argo submit`, re-stated for the subset the chart uses.

No Argo Events can run here. Each step follows argoproj/argo-events at commit 6478ece495f9
(2026-07-18, v0.17.0-1739; the mirror's HEAD), cited at the step. GJSON/SJSON paths are
emulated for plain dotted keys and array indexes only (what the chart uses), Go's regexp only
for literal text with ^, $, |, ( ) - anything else raises, so a new construct needs a look at
the peer first.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

_PLAIN_PATH = re.compile(r"[A-Za-z0-9_/-]+(\.[A-Za-z0-9_/-]+)*")


class Unauthorized(Exception):
    """The EventSource answered 401 and dispatched no event."""


def _path(path: str) -> list[str]:
    if not _PLAIN_PATH.fullmatch(path):
        raise ValueError(f"GJSON/SJSON path {path!r} is outside the emulated subset")
    return path.split(".")


_ARRAY_MULTIPATH = re.compile(r"\[(?P<subs>[^\[\]]+)\](?:\.(?P<rest>.+))?")
_LITERAL = re.compile(r'!("(?:[^"\\]|\\.)*"|true|false|null|-?\d+)')


def _gjson_multipath(document: Any, path: str) -> tuple[bool, Any] | None:
    """gjson v1.19.0 (argo-events go.mod:81) gjson.go:2155-2220: `[a,b,...]` builds an array
    of the sub-paths' values that exist (2166-2167: a missing one is left out), then the rest
    of the path applies to it; `!<json>` is a literal (SYNTAX.md "Literals", execStatic)."""
    match = _ARRAY_MULTIPATH.fullmatch(path)
    if match is None:
        return None
    values = []
    for sub in match["subs"].split(","):
        literal = _LITERAL.fullmatch(sub)
        if literal:
            values.append(json.loads(literal.group(1)))
            continue
        exists, value = gjson_get(document, sub)
        if exists:
            values.append(value)
    if match["rest"] is None:
        return True, values
    return gjson_get(values, match["rest"])


def gjson_get(document: Any, path: str) -> tuple[bool, Any]:
    """gjson.GetBytes: (exists, value) for a dotted path; digits index arrays; an array
    multipath with literals (_gjson_multipath)."""
    if path.startswith("["):
        multipath = _gjson_multipath(document, path)
        if multipath is None:
            raise ValueError(f"GJSON path {path!r} is outside the emulated subset")
        return multipath
    node = document
    for part in _path(path):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def gjson_string(value: Any) -> str:
    """gjson Result.String(): a string as is, "" for null, true/false, numbers as JSON, else
    the raw JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"))


def sjson_set(document: Any, path: str, value: str) -> Any:
    """sjson.SetBytes(json, path, string): sets (creating objects on the way) a JSON string."""
    changed = copy.deepcopy(document)
    node = changed
    *parents, leaf = _path(path)
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(leaf)] = value
    else:
        node[leaf] = value
    return changed


def go_regexp_match(pattern: str, text: str) -> bool:
    """regexp.Compile(pattern).Match(text) (Go RE2): an unanchored search. Go's `$` without
    the m flag matches only at the end of the text (Python's `$` also before a final
    newline), so it becomes `\\Z`. Besides literal text, ^, $, |, ( ) and `?`, bracketed
    ASCII classes and `{m,n}` repeats, which RE2 and Python read alike."""
    if not re.fullmatch(
        r"[\^]?(\\.|[A-Za-z0-9_\-|()?]|\[[-A-Za-z0-9_.]+\]|\{\d+,\d+\})*[$]?", pattern
    ):
        raise ValueError(f"regular expression {pattern!r} is outside the emulated subset")
    translated = pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern
    return re.search(translated, text) is not None


def webhook_event(
    webhook: dict[str, Any], method: str, headers: dict[str, str], body: bytes, token: str | None
) -> dict[str, Any]:
    """The event data the webhook EventSource dispatches for one HTTP request.

    pkg/eventsources/common/webhook/webhook.go:138-156: with an authSecret, a missing
    "Bearer " header or another token answers 401 and dispatches nothing.
    pkg/eventsources/sources/webhook/start.go:104-108 (method must match), 161-196 (POST
    body read as JSON unless form-encoded), 122-128 (data = {"header", "body", "metadata"}).
    """
    if webhook.get("authSecret") is not None:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") != token:
            raise Unauthorized(auth)
    if method != webhook["method"]:
        raise ValueError("http method does not match")
    if headers.get("Content-Type") == "application/x-www-form-urlencoded":
        raise ValueError("form bodies are not emulated")
    masked = dict(headers)
    if "Authorization" in masked:  # webhook.go:157-160
        masked["Authorization"] = "*** Masked Auth Secret ***"
    return {"header": {k: [v] for k, v in masked.items()}, "body": json.loads(body)}


def data_filters_pass(filters: list[dict[str, Any]], data: dict[str, Any]) -> bool:
    """pkg/sensors/dependencies/filter.go:198-420 (filterData), AND of the filters, for
    `type: string` (361-399): the path must exist (219-228) and one value, compiled as a Go
    regular expression, must Match the value's string (363-374)."""
    for data_filter in filters:
        if data_filter.get("type") != "string" or data_filter.get("comparator", "=") != "=":
            raise ValueError("only string filters with the default comparator are emulated")
        exists, value = gjson_get(data, data_filter["path"])
        if not exists:
            return False
        text = gjson_string(value)
        if not any(go_regexp_match(pattern, text) for pattern in data_filter["value"]):
            return False
    return True


def _resolve(source: dict[str, Any], events: dict[str, dict[str, Any]]) -> str | None:
    """pkg/sensors/triggers/params.go:193-280 (ResolveParamValue) for dataKey/value."""
    unsupported = {"contextKey", "contextTemplate", "dataTemplate", "useRawData"} & set(source)
    if unsupported:
        raise ValueError(f"parameter sources {sorted(unsupported)} are not emulated")
    event = events.get(source["dependencyName"])
    default = source.get("value")
    if event is None:
        return default  # params.go:232-240
    if "dataKey" not in source:
        return default  # params.go:204-217 (a whole-event payload is not emulated)
    exists, value = gjson_get(event, source["dataKey"])  # params.go:261-268, 306-319
    if exists:
        return gjson_string(value)
    if default is not None:  # params.go:270-274
        return str(default)
    raise ValueError(f"unable to resolve '{source['dependencyName']}' parameter value")


def apply_params(
    document: Any, parameters: list[dict[str, Any]], events: dict[str, dict[str, Any]]
) -> Any:
    """params.go:114-159 (ApplyParams), operation none/overwrite: each resolved value is
    set at `dest` with sjson.SetBytes (params.go:150-155)."""
    for parameter in parameters:
        if parameter.get("operation", "overwrite") not in {"overwrite", ""}:
            raise ValueError("append/prepend are not emulated")
        value = _resolve(parameter["src"], events)
        if value is not None:
            document = sjson_set(document, parameter["dest"], value)
    return document


@dataclass(frozen=True)
class Triggered:
    workflow: dict[str, Any]
    operation: str


def trigger_workflow(trigger: dict[str, Any], events: dict[str, dict[str, Any]]) -> Triggered:
    """The Workflow object the argoWorkflow trigger writes to a file for `argo submit`.

    pkg/sensors/listener.go:418 applies the trigger-level `parameters` to the trigger
    *template* (params.go:75-92: marshal the TriggerTemplate, ApplyParams, unmarshal it back,
    so a dest that is no TriggerTemplate field vanishes). The trigger then fetches
    `template.argoWorkflow.source.resource` (argo-workflow.go:79-82) and applies
    `template.argoWorkflow.parameters` to it (argo-workflow.go:85-94, params.go:95-111).
    """
    template = apply_params(trigger["template"], trigger.get("parameters", []), events)
    template = {key: value for key, value in template.items() if key in TRIGGER_TEMPLATE_FIELDS}
    argo_workflow = template["argoWorkflow"]
    resource = copy.deepcopy(argo_workflow["source"]["resource"])
    workflow = apply_params(resource, argo_workflow.get("parameters", []), events)
    return Triggered(workflow, argo_workflow.get("operation", "submit"))


# pkg/apis/events/v1alpha1/sensor_types.go:290 TriggerTemplate's JSON fields (what unmarshalling
# the parameterised template back keeps).
TRIGGER_TEMPLATE_FIELDS = frozenset(
    {"name", "conditions", "k8s", "argoWorkflow", "http", "awsLambda", "custom", "kafka", "nats",
     "slack", "openWhisk", "log", "azureEventHubs", "pulsar", "conditionsReset", "azureServiceBus",
     "email"}
)  # fmt: skip


_RATE_UNITS = {"Second": 1.0, "Minute": 60.0, "Hour": 3600.0}
# go.uber.org/ratelimit v0.3.1 (argo-events go.mod:86) ratelimit.go:61-66: default slack 10.
RATELIMIT_SLACK = 10


def submission_times(trigger: dict[str, Any], arrivals: list[float]) -> list[float]:
    """When the Sensor runs `argo submit` for events arriving at `arrivals` (seconds).

    pkg/sensors/listener.go:87-100 gives each trigger ratelimit.New(requestsPerUnit,
    Per(unit)) (Second unless Minute/Hour), or an unlimited limiter without `rateLimit`;
    listener.go:396-398 calls Take() before every trigger. New is the atomic int64 limiter
    (ratelimit.go:56-58, limiter_atomic_int64.go:44-95): each Take reserves the next permission
    `per/rate` after the previous one, lets at most `slack` unused permissions accumulate, and
    sleeps until its own. Nothing is dropped: a fast caller's events only wait.
    """
    limit = trigger.get("rateLimit")
    if limit is None:
        return list(arrivals)
    per_request = _RATE_UNITS.get(limit.get("unit", "Second"), 1.0) / int(limit["requestsPerUnit"])
    max_slack = RATELIMIT_SLACK * per_request
    state: float | None = None
    submitted = []
    for now in arrivals:
        if state is None:
            state = now
        elif now - state > max_slack + per_request:
            state = now - max_slack
        else:
            state = state + per_request
        submitted.append(max(state, now))
    return submitted
