"""Builders for InvocationResult / NodeResult values used by unit and history tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from workbench.observability.records import InvocationResult, NodeResult

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # a Monday


def node(
    unique_id: str,
    status: str = "success",
    *,
    duration: float = 1.0,
    rows: int | None = None,
    failures: int | None = None,
    at: datetime = T0,
) -> NodeResult:
    resource_type = unique_id.split(".", 1)[0]
    return NodeResult(
        unique_id=unique_id,
        name=unique_id.split(".")[2],
        resource_type=resource_type,
        status=status,
        started_at=at,
        finished_at=at + timedelta(seconds=duration),
        duration_seconds=duration,
        rows_affected=rows,
        failures=failures,
        message=None if status in ("success", "pass") else f"{status} in {unique_id}",
    )


def invocation(
    layer: str,
    exit_code: int,
    *,
    at: datetime = T0,
    duration: float = 60.0,
    nodes: tuple[NodeResult, ...] = (),
    workflow_name: str | None = None,
) -> InvocationResult:
    return InvocationResult(
        invocation_id=str(uuid.uuid4()),
        layer=layer,
        selection=f"selector:{layer}",
        select=None,
        exclude=None,
        full_refresh=False,
        vars={},
        started_at=at,
        finished_at=at + timedelta(seconds=duration),
        lock_wait_seconds=0.0,
        exit_code=exit_code,
        error=None if exit_code == 0 else "failed",
        dbt_invocation_id=None,
        labels={
            "workflow_name": workflow_name,
            "workflow_uid": None,
            "pod_name": None,
            "pod_namespace": None,
        },
        nodes=nodes,
    )
