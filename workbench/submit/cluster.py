"""Kubernetes API access: in-cluster credentials first, else the kubeconfig ($KUBECONFIG)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from kubernetes import client, config
from kubernetes.config import incluster_config
from urllib3.exceptions import HTTPError

from workbench.submit.manifest import ARGO_GROUP, ARGO_VERSION, WORKFLOWS_PLURAL

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class ClusterError(RuntimeError):
    """The API could not be reached or refused the request; the message says why."""


@dataclass(frozen=True)
class Cluster:
    api: client.ApiClient
    default_namespace: str


def connect() -> Cluster:
    """A client of its own (the kubernetes package's global default is left untouched)."""
    if incluster_config.SERVICE_HOST_ENV_NAME in os.environ:
        configuration = client.Configuration()
        loader = incluster_config.InClusterConfigLoader(  # type: ignore[no-untyped-call]
            token_filename=incluster_config.SERVICE_TOKEN_FILENAME,
            cert_filename=incluster_config.SERVICE_CERT_FILENAME,
        )
        loader.load_and_set(configuration)  # type: ignore[no-untyped-call]
        namespace = SERVICE_ACCOUNT_NAMESPACE.read_text(encoding="utf-8").strip()
        return Cluster(client.ApiClient(configuration), namespace or "default")
    try:
        # Read $KUBECONFIG now: the kubernetes package captured it once at import time.
        kubeconfig = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
        api = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, persist_config=False
        )
        _, active = config.list_kube_config_contexts(kubeconfig)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError) as exc:
        raise ClusterError(
            f"no Kubernetes credentials: not in a pod and no usable kubeconfig ({exc}); "
            "set KUBECONFIG or run inside the cluster with a ServiceAccount"
        ) from None
    namespace = (active or {}).get("context", {}).get("namespace") or "default"
    return Cluster(api, namespace)


def create_workflow(cluster: Cluster, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    api = client.CustomObjectsApi(cluster.api)
    try:
        created = cast(
            dict[str, Any],
            api.create_namespaced_custom_object(
                ARGO_GROUP, ARGO_VERSION, namespace, WORKFLOWS_PLURAL, body
            ),
        )
    except client.ApiException as exc:
        raise ClusterError(_api_message("create a Workflow", namespace, exc)) from None
    except (OSError, HTTPError) as exc:  # connection refused, DNS, TLS
        raise ClusterError(f"cannot reach the Kubernetes API: {exc}") from None
    return created


def get_workflow(cluster: Cluster, namespace: str, name: str) -> dict[str, Any]:
    api = client.CustomObjectsApi(cluster.api)
    try:
        found = cast(
            dict[str, Any],
            api.get_namespaced_custom_object(
                ARGO_GROUP, ARGO_VERSION, namespace, WORKFLOWS_PLURAL, name
            ),
        )
    except client.ApiException as exc:
        raise ClusterError(_api_message(f"read Workflow {name}", namespace, exc)) from None
    except (OSError, HTTPError) as exc:
        raise ClusterError(f"cannot reach the Kubernetes API: {exc}") from None
    return found


def _api_message(action: str, namespace: str, exc: client.ApiException) -> str:
    hint = {
        401: "the credentials were rejected",
        403: "the ServiceAccount/user lacks RBAC: it needs create/get on workflows.argoproj.io",
        404: "is Argo Workflows installed (CRD workflows.argoproj.io) and the namespace right?",
    }.get(exc.status, exc.reason or "")
    return f"could not {action} in namespace {namespace}: HTTP {exc.status} ({hint})"
