"""The pod Argo would create for a WorkflowTemplate step, read from the rendered chart.

No Argo controller can run here, so this resolves what the controller does before it creates the
pod, as argoproj/argo-workflows v4.1.2 does it:
- the entrypoint's inputs come from the workflow's arguments
  (workflow/controller/operator.go:422 passes `woc.execWf.Spec.Arguments` to executeTemplate);
  `argo submit -p name=value` replaces an argument's value, a value outside its `enum` is refused
  (workflow/validate/validate.go:1046);
- `{{inputs.parameters.X}}`, `{{workflow.name}}` and `{{workflow.uid}}` are substituted in the
  template (workflow/common/util.go:200 ProcessArgs; globals from operator.go:677
  setGlobalParameters); anything left in `{{…}}` would fail the workflow, so it fails here;
- the pod's securityContext is the workflow's `securityContext`, the container's its own.
Kubernetes' part (fieldRef, envFrom secrets, secretKeyRef, emptyDir) is resolved as the kubelet
would: an optional Secret or key that does not exist leaves its variable unset.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "dbt-workbench"
HELM = REPO / ".tools" / "bin" / "helm"
RELEASE = "wb"
_EXPRESSION = re.compile(r"\{\{\s*([^}]+?)\s*\}\}")


def render_chart(
    values: Mapping[str, str], typed: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """`helm template` with `values` as strings and `typed` as YAML (booleans, numbers)."""
    if not HELM.exists():
        raise RuntimeError(f"{HELM} is missing: run `make tools`")
    sets = [arg for key, value in values.items() for arg in ("--set-string", f"{key}={value}")]
    sets += [arg for key, value in (typed or {}).items() for arg in ("--set", f"{key}={value}")]
    out = subprocess.run(
        [str(HELM), "template", RELEASE, str(CHART), *sets],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def workflow_template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == "WorkflowTemplate"]
    return found


@dataclass(frozen=True)
class Workflow:
    """What `argo submit --from workflowtemplate/<name> -p …` fixes before any pod exists."""

    name: str
    uid: str
    namespace: str = "data"


@dataclass
class PodSpec:
    """One container of one pod, fully resolved."""

    name: str
    image: str
    command: list[str]
    args: list[str]
    env: dict[str, str]
    mounts: dict[str, str]  # volume name -> mount path (every volume an emptyDir)
    run_as_user: int
    run_as_group: int
    fs_group: int | None
    read_only_root: bool
    no_new_privileges: bool
    cap_drop: list[str]
    cap_add: list[str]
    cpus: str | None
    memory: str | None


def _parameters(wft: dict[str, Any], submitted: Mapping[str, str]) -> dict[str, str]:
    declared = {p["name"]: p for p in wft["spec"]["arguments"]["parameters"]}
    unknown = set(submitted) - set(declared)
    if unknown:
        raise ValueError(f"no such workflow parameter: {sorted(unknown)}")
    values = {name: str(p.get("value", "")) for name, p in declared.items()}
    values.update(submitted)
    for name, value in values.items():
        allowed = declared[name].get("enum")
        if allowed is not None and value not in allowed:
            raise ValueError(f"{name}={value!r} is not one of {allowed}")
    return values


def _substitute(text: str, scope: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in scope:
            raise ValueError(f"unresolved Argo expression {match.group(0)!r} in {text!r}")
        return scope[key]

    return _EXPRESSION.sub(replace, text)


def _quantity_cpus(value: str) -> str:
    return str(int(value[:-1]) / 1000) if value.endswith("m") else value


def _quantity_memory(value: str) -> str:
    units = {"Ki": "k", "Mi": "m", "Gi": "g"}
    for suffix, short in units.items():
        if value.endswith(suffix):
            return value[: -len(suffix)] + short
    return value


def resolve(
    wft: dict[str, Any],
    template_name: str,
    workflow: Workflow,
    submitted: Mapping[str, str],
    secrets: Mapping[str, Mapping[str, str]],
) -> PodSpec:
    """The pod of `template_name` run as the entrypoint of a workflow submitted with `-p`."""
    spec = wft["spec"]
    (template,) = [t for t in spec["templates"] if t["name"] == template_name]
    params = _parameters(wft, submitted)
    scope = {"workflow.name": workflow.name, "workflow.uid": workflow.uid}
    scope.update({f"workflow.parameters.{k}": v for k, v in params.items()})
    for declared in template.get("inputs", {}).get("parameters", []):
        scope[f"inputs.parameters.{declared['name']}"] = params[declared["name"]]
    return _pod(
        name=f"{workflow.name}-{template_name}-1234567890",
        namespace=workflow.namespace,
        container=template["container"],
        volumes=template.get("volumes", []),
        pod_sc=spec.get("securityContext", {}),
        scope=scope,
        secrets=secrets,
    )


def resolve_deployment(
    deployment: dict[str, Any], secrets: Mapping[str, Mapping[str, str]], namespace: str = "data"
) -> PodSpec:
    """The first container of a Deployment's pod, as the kubelet would start it (no Argo
    expressions: any `{{…}}` left in it fails)."""
    pod = deployment["spec"]["template"]["spec"]
    return _pod(
        name=f"{deployment['metadata']['name']}-5d8f7c9b4-x2x7q",
        namespace=namespace,
        container=pod["containers"][0],
        volumes=pod.get("volumes", []),
        pod_sc=pod.get("securityContext", {}),
        scope={},
        secrets=secrets,
    )


def _pod(
    *,
    name: str,
    namespace: str,
    container: dict[str, Any],
    volumes: list[dict[str, Any]],
    pod_sc: dict[str, Any],
    scope: Mapping[str, str],
    secrets: Mapping[str, Mapping[str, str]],
) -> PodSpec:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source["secretRef"]
        if ref["name"] in secrets:
            env.update(secrets[ref["name"]])
        elif not ref.get("optional", False):
            raise ValueError(f"the pod needs Secret {ref['name']!r}, which the test did not give")
    fields = {"metadata.name": name, "metadata.namespace": namespace}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = _substitute(str(item["value"]), scope)
        elif "secretKeyRef" in item["valueFrom"]:
            ref = item["valueFrom"]["secretKeyRef"]
            if ref["key"] in secrets.get(ref["name"], {}):
                env[item["name"]] = secrets[ref["name"]][ref["key"]]
            elif not ref.get("optional", False):
                raise ValueError(f"the pod needs key {ref['key']!r} of Secret {ref['name']!r}")
        else:
            env[item["name"]] = fields[item["valueFrom"]["fieldRef"]["fieldPath"]]

    by_name = {v["name"]: v for v in volumes}
    mounts: dict[str, str] = {}
    for mount in container.get("volumeMounts", []):
        volume = by_name[mount["name"]]
        if "emptyDir" not in volume:
            raise ValueError(f"volume {mount['name']!r} is not an emptyDir; teach the test it")
        mounts[mount["name"]] = mount["mountPath"]

    sc = {**pod_sc, **container.get("securityContext", {})}
    user, group = sc.get("runAsUser"), sc.get("runAsGroup")
    if sc.get("runAsNonRoot") and not user:
        raise ValueError("runAsNonRoot without a non-zero runAsUser: the kubelet would refuse")
    seccomp = sc.get("seccompProfile", {}).get("type", "RuntimeDefault")
    if seccomp != "RuntimeDefault":
        raise ValueError(f"seccompProfile {seccomp}: only RuntimeDefault maps to the engine")
    limits = container.get("resources", {}).get("limits", {})
    return PodSpec(
        name=name,
        image=container["image"],
        command=[_substitute(a, scope) for a in container.get("command", [])],
        args=[_substitute(a, scope) for a in container.get("args", [])],
        env=env,
        mounts=mounts,
        run_as_user=int(user or 0),
        run_as_group=int(group or user or 0),
        fs_group=pod_sc.get("fsGroup"),
        read_only_root=bool(sc.get("readOnlyRootFilesystem", False)),
        no_new_privileges=sc.get("allowPrivilegeEscalation") is False,
        cap_drop=list(sc.get("capabilities", {}).get("drop", [])),
        cap_add=list(sc.get("capabilities", {}).get("add", [])),
        cpus=_quantity_cpus(str(limits["cpu"])) if "cpu" in limits else None,
        memory=_quantity_memory(str(limits["memory"])) if "memory" in limits else None,
    )


def pod_environment(pod: PodSpec, base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the engine process for engine_run_args: base plus the pod's values."""
    return {**base, **pod.env}


def engine_run_args(pod: PodSpec, volume_dirs: Mapping[str, Path]) -> list[str]:
    """`<engine> run` flags for the pod; emptyDirs are host directories the test can read."""
    args = [
        "--name",
        pod.name,
        "--network",
        "host",
        "--user",
        f"{pod.run_as_user}:{pod.run_as_group}",
        "--read-only-tmpfs=false",  # only the pod's volumes are writable, as in Kubernetes
    ]
    if pod.fs_group is not None:
        args += ["--group-add", str(pod.fs_group)]
    if pod.read_only_root:
        args.append("--read-only")
    if pod.no_new_privileges:
        args += ["--security-opt", "no-new-privileges"]
    args += [flag for cap in pod.cap_drop for flag in ("--cap-drop", cap)]
    args += [flag for cap in pod.cap_add for flag in ("--cap-add", cap)]
    if pod.cpus:
        args += ["--cpus", pod.cpus]
    if pod.memory:
        args += ["--memory", pod.memory]
    for name, path in pod.mounts.items():
        args += ["--volume", f"{volume_dirs[name]}:{path}:rw"]
    # Names only: the engine takes each value from its own environment (pod_environment), so no
    # secret appears on a command line.
    for key in pod.env:
        args += ["--env", key]
    if pod.command:
        args += ["--entrypoint", pod.command[0]]
    return [*args, pod.image, *pod.command[1:], *pod.args]
