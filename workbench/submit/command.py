"""`workbench submit --layer L [--wait]`: a Workflow from the WorkflowTemplate, no argo CLI.

For callers such as Airflow or n8n. Parameters are validated exactly as `workbench run`
validates them, before anything is sent. Prints one JSON line per event on stdout.
Exit codes: 0 submitted (or, with --wait, Succeeded), 1 the Workflow Failed, 2 bad
parameters, API/credential errors, Workflow Error, or --timeout reached.
"""

from __future__ import annotations

import argparse
import json
import sys

from workbench.contract import ExitCode
from workbench.params import ParamError, add_selection_arguments, parse_run_params
from workbench.submit.cluster import ClusterError, connect, create_workflow, get_workflow
from workbench.submit.manifest import DEFAULT_TEMPLATE, workflow_manifest
from workbench.submit.wait import wait_for_workflow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_selection_arguments(parser)
    parser.add_argument(
        "--namespace",
        default="",
        help="namespace of the template (default: the pod's, else the kubeconfig context's)",
    )
    parser.add_argument(
        "--template",
        default=DEFAULT_TEMPLATE,
        help=f"WorkflowTemplate name, i.e. the Helm release fullname (default {DEFAULT_TEMPLATE})",
    )
    parser.add_argument("--wait", action="store_true", help="wait until the Workflow finishes")
    parser.add_argument(
        "--timeout",
        type=float,
        default=6 * 3600.0,
        metavar="SECONDS",
        help="with --wait: give up waiting after this long (exit 2; the Workflow keeps running)",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with --wait: seconds between status reads",
    )


def _emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def execute(args: argparse.Namespace) -> int:
    try:
        params = parse_run_params(
            layer=args.layer,
            select=args.select,
            exclude=args.exclude,
            full_refresh=args.full_refresh,
        )
    except ParamError as exc:
        print(f"workbench submit: {exc}", file=sys.stderr)
        return int(ExitCode.CONFIGURATION_ERROR)
    try:
        cluster = connect()
        namespace = args.namespace or cluster.default_namespace
        created = create_workflow(cluster, namespace, workflow_manifest(args.template, params))
        name = created["metadata"]["name"]
        _emit(
            "submitted",
            workflow=name,
            namespace=namespace,
            template=args.template,
            layer=params.layer,
        )
        if not args.wait:
            return int(ExitCode.SUCCESS)
        outcome = wait_for_workflow(
            lambda: get_workflow(cluster, namespace, name),
            timeout_seconds=args.timeout,
            poll_seconds=args.poll_interval,
        )
    except ClusterError as exc:
        print(f"workbench submit: {exc}", file=sys.stderr)
        return int(ExitCode.RUNTIME_ERROR)
    _emit(
        "finished", workflow=name, namespace=namespace, phase=outcome.phase, message=outcome.message
    )
    return outcome.exit_code
