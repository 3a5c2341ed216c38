"""The webhook path, request to Workflow: what Argo Events does with the rendered EventSource
and Sensor (tests.manifests.argo_events re-states it, citing argoproj/argo-events at commit
6478ece495f9). No Argo Events can run here."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.manifests import chart
from tests.manifests.argo_events import (
    RATELIMIT_SLACK,
    Unauthorized,
    data_filters_pass,
    submission_times,
    trigger_workflow,
    webhook_event,
)
from workbench.contract import LAYERS

TOKEN = "s3cr3t-t0ken"  # noqa: S105 - a test value
DEPLOY_DOC = chart.REPO_ROOT / "docs" / "deploy.md"
EVENTS = ("--set", "events.enabled=true")
WITH_TOKEN = ("--set", "events.webhook.authSecret.name=dbt-workbench-webhook-token")


def _webhook_objects(docs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    (source,) = chart.by_kind(docs, "EventSource")
    (sensor,) = chart.by_kind(docs, "Sensor")
    return source, sensor


def _request(
    docs: list[dict[str, Any]], body: dict[str, Any] | str, token: str | None = TOKEN
) -> dict[str, Any] | None:
    """The Workflow one POST creates, or None when the Sensor drops the event."""
    source, sensor = _webhook_objects(docs)
    webhook = source["spec"]["webhook"]["run"]
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    raw = body if isinstance(body, str) else json.dumps(body)
    data = webhook_event(webhook, "POST", headers, raw.encode(), TOKEN)
    (dependency,) = sensor["spec"]["dependencies"]
    if not data_filters_pass(dependency["filters"]["data"], data):
        return None
    (trigger,) = sensor["spec"]["triggers"]
    triggered = trigger_workflow(trigger, {dependency["name"]: data})
    assert triggered.operation == "submit"
    return triggered.workflow


def _arguments(workflow: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}


@pytest.fixture(scope="module")
def webhook_docs() -> list[dict[str, Any]]:
    return chart.documents(chart.template(extra=(*EVENTS, *WITH_TOKEN)))


@pytest.fixture(scope="module")
def full_refresh_docs() -> list[dict[str, Any]]:
    allow = ("--set", "events.webhook.allowFullRefresh=true")
    return chart.documents(chart.template(extra=(*EVENTS, *WITH_TOKEN, *allow)))


@pytest.mark.parametrize("layer", LAYERS)
def test_the_body_layer_reaches_the_workflow(
    webhook_docs: list[dict[str, Any]], layer: str
) -> None:
    """Trigger-level `parameters` edit the trigger template (listener.go:418, params.go:75-92)
    and never the Workflow; `template.argoWorkflow.parameters` edit the Workflow
    (argo-workflow.go:85-94)."""
    workflow = _request(webhook_docs, {"layer": layer})
    assert workflow is not None
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "wb-dbt-workbench"}
    assert _arguments(workflow) == {"layer": layer, "full_refresh": "false"}
    assert workflow["metadata"]["labels"]["dbt-workbench/job"] == "webhook"


def _documented_curl() -> list[str]:
    text = DEPLOY_DOC.read_text(encoding="utf-8")
    (line,) = [line for line in text.splitlines() if line.startswith("curl ")]
    return shlex.split(line.replace("$TOKEN", TOKEN))


def test_the_documented_curl_reaches_the_workflow_with_its_layer() -> None:
    """docs/deploy.md's curl, parsed as the shell would and replayed: the URL is the
    EventSource's Service (`<name>-eventsource-svc`, argo-events
    pkg/reconciler/eventsource/resource.go:437), port and endpoint; the body's layer is the
    Workflow's."""
    argv = _documented_curl()
    options: dict[str, list[str]] = {}
    url = ""
    args = iter(argv[1:])
    for arg in args:
        if arg in {"-X", "-H", "-d"}:
            options.setdefault(arg, []).append(next(args))
        elif not arg.startswith("-"):
            url = arg
    headers = dict(h.split(": ", 1) for h in options["-H"])
    (body,) = options["-d"]
    assert options["-X"] == ["POST"]
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    # The documented release: `helm upgrade --install dbt-workbench ... -n dbt-workbench`.
    rendered = chart.helm(
        "template", "dbt-workbench", str(chart.CHART_DIR), "--namespace", "dbt-workbench",
        *EVENTS, *WITH_TOKEN, *(f"--api-versions={api}" for api in chart.ARGO_EVENTS_APIS),
    )  # fmt: skip
    assert rendered.returncode == 0, rendered.stderr
    docs = chart.documents(rendered.stdout)
    source, _ = _webhook_objects(docs)
    webhook = source["spec"]["webhook"]["run"]
    parts = urlsplit(url)
    assert parts.hostname == f"{source['metadata']['name']}-eventsource-svc.dbt-workbench.svc"
    assert str(parts.port) == webhook["port"] and parts.path == webhook["endpoint"]
    data = webhook_event(webhook, options["-X"][0], headers, body.encode(), TOKEN)
    workflow = _request(docs, json.loads(body))
    assert workflow is not None and data["body"] == json.loads(body)
    assert workflow["spec"]["workflowTemplateRef"] == {"name": "dbt-workbench"}
    assert _arguments(workflow)["layer"] == json.loads(body)["layer"] == "gold"


@pytest.mark.parametrize(
    "layer", ["golden", "silverX", "xsilver", "gold\n", "bronze|silver", "", "ALL", 3]
)
def test_anything_but_a_known_layer_is_dropped(
    webhook_docs: list[dict[str, Any]], layer: object
) -> None:
    """filter.go:361-374: each string value is `regexp.Compile`d and `Match`ed, an unanchored
    search; unanchored, "golden" passes on "gold"."""
    assert _request(webhook_docs, {"layer": layer}) is None


def test_a_body_without_a_layer_is_dropped(webhook_docs: list[dict[str, Any]]) -> None:
    assert _request(webhook_docs, {"full_refresh": "true"}) is None  # filter.go:219-228


def test_full_refresh_from_the_body_only_when_the_values_allow_it(
    webhook_docs: list[dict[str, Any]], full_refresh_docs: list[dict[str, Any]]
) -> None:
    asked = {"layer": "all", "full_refresh": "true"}
    refused = _request(webhook_docs, asked)
    assert refused is not None and _arguments(refused)["full_refresh"] == "false"
    allowed = _request(full_refresh_docs, asked)
    assert allowed is not None and _arguments(allowed)["full_refresh"] == "true"
    default = _request(full_refresh_docs, {"layer": "all"})  # params.go:270-274: the default
    assert default is not None and _arguments(default)["full_refresh"] == "false"


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_a_request_without_the_token_starts_nothing(
    webhook_docs: list[dict[str, Any]], token: str | None
) -> None:
    """webhook.go:138-156: with authSecret, no "Bearer " header or another token is a 401."""
    with pytest.raises(Unauthorized):
        _request(webhook_docs, {"layer": "silver"}, token=token)


def test_the_webhook_needs_a_token_secret_unless_explicitly_open() -> None:
    result = chart.helm(
        "template", chart.RELEASE, str(chart.CHART_DIR), *EVENTS,
        "--api-versions", "argoproj.io/v1alpha1/EventSource",
        "--api-versions", "argoproj.io/v1alpha1/Sensor",
    )  # fmt: skip
    assert result.returncode != 0
    assert "events.webhook.authSecret.name" in result.stderr
    opened = chart.documents(
        chart.template(extra=(*EVENTS, "--set", "events.webhook.allowUnauthenticated=true"))
    )
    source, _ = _webhook_objects(opened)
    assert "authSecret" not in source["spec"]["webhook"]["run"]


def test_the_sensor_may_do_what_the_trigger_calls(webhook_docs: list[dict[str, Any]]) -> None:
    """argo-workflow.go:160 runs `argo submit <file>`: the CLI's in-process server gets the
    referenced WorkflowTemplate to validate the Workflow and creates it (argo-workflows v4.1.2
    server/workflow/workflow_server.go:121-141; pkg/apiclient/argo-kube-client.go:159 reads
    templates with plain gets); then the trigger LISTs Workflows by its labels
    (argo-workflow.go:205) - without `list` the trigger fails after the Workflow exists and
    its retryStrategy submits another."""
    role = chart.named(webhook_docs, "Role", "wb-dbt-workbench-sensor")
    rules = {tuple(r["resources"]): r for r in role["rules"]}
    assert sorted(rules[("workflows",)]["verbs"]) == ["create", "list"]
    assert rules[("workflowtemplates",)]["verbs"] == ["get"]
    assert rules[("workflowtemplates",)]["resourceNames"] == ["wb-dbt-workbench"]
    assert set(rules) == {("workflows",), ("workflowtemplates",)}
    (binding,) = [
        b
        for b in chart.by_kind(webhook_docs, "RoleBinding")
        if b["roleRef"]["name"] == role["metadata"]["name"]
    ]
    _, sensor = _webhook_objects(webhook_docs)
    assert binding["subjects"][0]["name"] == sensor["spec"]["template"]["serviceAccountName"]


def test_filter_values_are_anchored_layer_names(webhook_docs: list[dict[str, Any]]) -> None:
    _, sensor = _webhook_objects(webhook_docs)
    (dependency,) = sensor["spec"]["dependencies"]
    (layer_filter,) = [f for f in dependency["filters"]["data"] if f["path"] == "body.layer"]
    assert layer_filter["value"] == [f"^{re.escape(layer)}$" for layer in LAYERS]


def _trigger(docs: list[dict[str, Any]]) -> dict[str, Any]:
    _, sensor = _webhook_objects(docs)
    (trigger,) = sensor["spec"]["triggers"]
    return trigger


def _most_in_any_window(times: list[float], window: float) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered))


def test_a_chatty_caller_cannot_flood_the_layer_queues(webhook_docs: list[dict[str, Any]]) -> None:
    """Issue 19 finding 3. Every event the Sensor keeps is one `argo submit`
    (argo-workflow.go:160); each Workflow queues FIFO on its layers' mutexes
    (workflow/sync/semaphore.go:238-247, argo-workflows v4.1.2) ahead of later cron ticks,
    which `concurrencyPolicy: Forbid` skips meanwhile (workflow/cron/operator.go:271-276).
    The trigger's rateLimit (sensor_types.go:259, from events.webhook.rateLimit) spaces the
    submissions; nothing is dropped. A POST every 5 s for two hours: without it 1440
    Workflows; with the default (1 a minute) at most one a minute plus the limiter's slack."""
    arrivals = [5.0 * i for i in range(2 * 24 * 60 // 2)]
    times = submission_times(_trigger(webhook_docs), arrivals)
    assert len(times) == len(arrivals)  # delayed, never dropped
    assert all(t >= a for t, a in zip(times, arrivals, strict=True))
    for minutes in (1, 10, 60):
        assert _most_in_any_window(times, 60.0 * minutes) <= minutes + RATELIMIT_SLACK + 1
    # After a quiet spell the slack lets a burst through at once, then one a minute again.
    burst = [7200.0 + i for i in range(30)]
    late = submission_times(_trigger(webhook_docs), [0.0, *burst])[1:]
    assert sum(1 for t in late if t == burst[0] or t < burst[-1] + 1) == RATELIMIT_SLACK + 1


def test_the_rate_limit_comes_from_the_values() -> None:
    limited = ("--set", "events.webhook.rateLimit.unit=Hour")
    limited += ("--set", "events.webhook.rateLimit.requestsPerUnit=4")
    docs = chart.documents(chart.template(extra=(*EVENTS, *WITH_TOKEN, *limited)))
    times = submission_times(_trigger(docs), [float(i) for i in range(20)])
    assert _most_in_any_window(times, 3600.0) == 4  # none dropped: the rest wait their turn
    assert max(times) == 19 * 900.0


@pytest.mark.parametrize(
    "full_refresh", ["yes", "TRUE", "true ", " false", "truefalse", "", 1, None, ["true"]]
)
def test_a_junk_full_refresh_is_dropped_by_the_sensor(
    full_refresh_docs: list[dict[str, Any]], full_refresh: object
) -> None:
    """Issue 19 finding 9. A parameter the Workflow supplies replaces the template's whole,
    enum included (argo-workflows v4.1.2 util/util.go:59-74 MergeParameters, used by
    workflow/validate/validate.go:190-193), so Argo accepts `full_refresh: yes` and the
    runtime exits 3 - a critical page for a caller's typo. The Sensor refuses it instead."""
    assert _request(full_refresh_docs, {"layer": "silver", "full_refresh": full_refresh}) is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"layer": "gold"}, "false"),  # absent: the trigger's default (params.go:270-274)
        ({"layer": "gold", "full_refresh": "false"}, "false"),
        ({"layer": "gold", "full_refresh": "true"}, "true"),
        ({"layer": "gold", "full_refresh": True}, "true"),  # gjson String() of true
        ({"layer": "gold", "full_refresh": False}, "false"),
    ],
)
def test_true_false_or_absent_full_refresh_still_runs(
    full_refresh_docs: list[dict[str, Any]], body: dict[str, Any], expected: str
) -> None:
    """A data filter fails on a path that does not exist (filter.go:219-228), so the filter's
    path is the GJSON multipath `[body.full_refresh,!"false"].0`: the body's value when it
    exists, else the literal (gjson v1.19.0 gjson.go:2155-2220)."""
    workflow = _request(full_refresh_docs, body)
    assert workflow is not None
    assert _arguments(workflow)["full_refresh"] == expected


REQUEST_ID_LABEL = "dbt-workbench/request-id"


def test_a_callers_request_id_labels_the_workflow_it_started(
    webhook_docs: list[dict[str, Any]],
) -> None:
    """Issue 19 finding 10. The EventSource answers 200 once the event is on the EventBus
    (argo-events pkg/eventsources/common/webhook/webhook.go:60-70), before the Sensor filters
    it, so the response cannot say whether a Workflow started, nor its name. A caller's
    `request_id` becomes the Workflow's label (argo-workflow.go:85-94 applies the parameter,
    sjson sets the key): `kubectl get workflows -l dbt-workbench/request-id=<id>` finds it;
    none there means the request was dropped (or waits for the rate limit)."""
    workflow = _request(webhook_docs, {"layer": "silver", "request_id": "nightly-42.b"})
    assert workflow is not None
    assert workflow["metadata"]["labels"][REQUEST_ID_LABEL] == "nightly-42.b"
    assert workflow["metadata"]["labels"]["dbt-workbench/job"] == "webhook"
    anonymous = _request(webhook_docs, {"layer": "silver"})
    assert anonymous is not None and anonymous["metadata"]["labels"][REQUEST_ID_LABEL] == ""


@pytest.mark.parametrize(
    "request_id", ["a b", "x" * 64, "-lead", "trail-", "a/b", "ä", {"id": "x"}, [1]]
)
def test_a_request_id_that_is_no_label_value_is_dropped(
    webhook_docs: list[dict[str, Any]], request_id: object
) -> None:
    """Kubernetes refuses a label value that is not (<= 63) alphanumerics with - _ . inside:
    `argo submit` would fail, three times (the trigger's retryStrategy), and start nothing.
    The Sensor drops such a request instead."""
    assert _request(webhook_docs, {"layer": "silver", "request_id": request_id}) is None
