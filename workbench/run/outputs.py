"""Argo output parameters: one small file per value, read by the executor after the pod ends.

The WorkflowTemplate declares each name in OUTPUT_NAMES as an output parameter whose value
comes from ``$WORKBENCH_OUTPUTS_DIR/<name>`` (an emptyDir), with a default for a pod that died
before writing them. The Argo UI shows them on the node.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import structlog

from workbench.config import PostgresSettings
from workbench.contract import OUTPUTS_DIR_ENV, ExitCode
from workbench.observability.records import InvocationResult

BUILT_RESOURCE_TYPES = frozenset({"model", "seed", "snapshot"})
PASSING_TEST_STATUSES = frozenset({"pass", "warn"})
# Argo keeps parameters in the Workflow object (etcd): keep the list of names short.
FAILED_NODES_MAX_CHARS = 2000

log = structlog.get_logger("workbench.run")


def outcome(result: InvocationResult) -> str:
    """One word: success, nothing-new (skipped), failed (a model or test failed), error."""
    if result.nothing_new:
        return "nothing-new"
    if result.success:
        return "success"
    return "failed" if result.exit_code == ExitCode.FAILURE else "error"


def _failed_names(result: InvocationResult) -> str:
    names = [node.name for node in result.nodes if node.failed]
    text = ", ".join(names)
    if len(text) <= FAILED_NODES_MAX_CHARS:
        return text
    kept: list[str] = []
    for name in names:
        if len(", ".join([*kept, name])) > FAILED_NODES_MAX_CHARS - 20:
            break
        kept.append(name)
    return ", ".join(kept) + f", … (+{len(names) - len(kept)} more)"


def output_values(result: InvocationResult) -> dict[str, str]:
    models = sum(1 for n in result.nodes if n.resource_type in BUILT_RESOURCE_TYPES and n.succeeded)
    tests_passed = sum(1 for n in result.nodes if n.is_test and n.status in PASSING_TEST_STATUSES)
    tests_failed = sum(1 for n in result.nodes if n.is_test and n.failed)
    values = {
        "outcome": outcome(result),
        "models_built": str(models),
        "tests_passed": str(tests_passed),
        "tests_failed": str(tests_failed),
        "failed_nodes": _failed_names(result),
    }
    return values


class OutputWriter:
    """Publisher for run_layer: writes the output files when WORKBENCH_OUTPUTS_DIR is set."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OutputWriter | None:
        env = os.environ if env is None else env
        directory = env.get(OUTPUTS_DIR_ENV, "").strip()
        return cls(Path(directory)) if directory else None

    def __call__(self, result: InvocationResult, settings: PostgresSettings) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, value in output_values(result).items():
                (self.directory / name).write_text(value, encoding="utf-8")
        except OSError as exc:  # an unwritable volume must not change the exit code
            log.warning("outputs_write_failed", directory=str(self.directory), error=str(exc))
