"""The WorkflowTemplate: one pod template for every dbt layer, one for the docs publish.

Every CronWorkflow, the webhook Sensor, `argo submit --from workflowtemplate/<name>` and
`workbench submit` start Workflows from this template through ``workflowTemplateRef``.
Fields that differ per environment are Helm markers (see :mod:`workflows.helm`).
"""

from __future__ import annotations

from hera.workflows import (
    DAG,
    Artifact,
    ConfigMapVolume,
    Container,
    EmptyDirVolume,
    Env,
    FieldEnv,
    NoneArchiveStrategy,
    Parameter,
    SecretEnv,
    SecretEnvFrom,
    Task,
    WorkflowTemplate,
)
from hera.workflows.models import (
    Capabilities,
    KeyToPath,
    PodGC,
    PodSecurityContext,
    Quantity,
    SeccompProfile,
    SecurityContext,
    TTLStrategy,
    ValueFrom,
)

from workbench.contract import (
    BOOLEAN_CHOICES,
    DBT_METADATA_ENV_PREFIX,
    EMBED_API_KEY_ENV,
    EMBED_DIMENSIONS_ENV,
    EMBED_MODEL_ENV,
    EMBED_PROVIDER_ENV,
    EMBED_URL_ENV,
    EMBED_WINDOW_DAYS_ENV,
    EXIT_CODE_OUTPUT,
    GDRIVE_API_URL_ENV,
    GDRIVE_CREDENTIALS_PATH,
    GOOGLE_CREDENTIALS_ENV,
    IMAGE_METADATA_KEY,
    INGEST_MAX_ERROR_SHARE_ENV,
    INGEST_SOURCES_FILE_NAME,
    INGEST_SOURCES_MOUNT_DIR,
    INGEST_SOURCES_PATH,
    LAYERS,
    OUTPUT_NAMES,
    OUTPUTS_DIR_ENV,
    PULL_EXIT_CODE_OUTPUT,
    PULL_STEP,
    RUN_PARAMETER_OPTIONS,
)
from workflows import helm
from workflows.budget import attempt_deadline, retry_limit
from workflows.layers import (
    DEFAULT_LAYER,
    DOCS_ENTRYPOINT,
    ON_DEMAND_TIMEOUT_SECONDS,
    PULL_RETRY_LIMIT,
    PULL_RUN_ENTRYPOINT,
    PULL_TIMEOUT_SECONDS,
    RUN_ENTRYPOINT,
    SECONDS_AFTER_FAILURE,
    SECONDS_AFTER_SUCCESS,
    job_of_entrypoint,
)
from workflows.mutexes import workflow_synchronization
from workflows.retries import retry_strategy
from workflows.run_metrics import workflow_metrics

# Hera checks name lengths, so names are set to the Helm fullname by the renderer.
TEMPLATE_NAME_PLACEHOLDER = "dbt-workbench"
RUNTIME_UID = 10001  # numeric USER of images/dbt-runtime/Dockerfile
# The image's ENTRYPOINT, stated in the pod spec: with no `command` the controller asks the
# registry for the image's entrypoint (with the ServiceAccount's pull secrets) before it can
# create the pod, and a private image without them never starts.
RUNTIME_COMMAND = ["workbench"]

# Output parameters the Argo UI shows on a run's node: `workbench run` writes one file per
# name in the contract's OUTPUT_NAMES under OUTPUTS_DIR; this says what each means.
OUTPUTS_DIR = "/work/outputs"
OUTPUT_DESCRIPTIONS: dict[str, str] = {
    "outcome": "success, nothing-new (no new input: skipped), failed (a model or test failed),"
    " or error.",
    "models_built": "Models and seeds built successfully.",
    "tests_passed": "Data and unit tests that passed (warnings included).",
    "tests_failed": "Data and unit tests that failed or errored.",
    "failed_nodes": "Names of the models and tests that failed.",
}
# What a pod that died before writing its outputs reports (the executor errors without one).
OUTPUT_DEFAULT = "unknown"
RUN_RESULTS_PATH = "/work/target/run_results.json"


EXIT_CODE_DESCRIPTION = (
    "The attempt's exit code (0 ok, 1 a model or test failed, 2 transient, 3 configuration);"
    " also the Workflow's own output, since its final message does not say it."
)


def run_output_parameters() -> list[Parameter]:
    return [
        *(
            Parameter(
                name=name,
                description=description,
                value_from=ValueFrom(path=f"{OUTPUTS_DIR}/{name}", default=OUTPUT_DEFAULT),
            )
            for name, description in _described_outputs().items()
        ),
        # globalName: every finished attempt sets the Workflow's status.outputs (operator.go:
        # 1257 -> addOutputsToGlobalScope, 3701-3710), failed ones too, so the last one stays.
        Parameter(
            name=EXIT_CODE_OUTPUT,
            description=EXIT_CODE_DESCRIPTION,
            global_name=EXIT_CODE_OUTPUT,
            value_from=ValueFrom(path=f"{OUTPUTS_DIR}/{EXIT_CODE_OUTPUT}", default=OUTPUT_DEFAULT),
        ),
    ]


def _described_outputs() -> dict[str, str]:
    missing = set(OUTPUT_NAMES) ^ set(OUTPUT_DESCRIPTIONS)
    if missing:
        raise ValueError(f"describe exactly the contract's OUTPUT_NAMES; differs in {missing}")
    return {name: OUTPUT_DESCRIPTIONS[name] for name in OUTPUT_NAMES}


def run_results_artifact() -> Artifact:
    """dbt's run_results.json, kept as a plain file; optional, so a run that never got as far
    as writing it does not fail on it. The chart adds it only with an artifact repository."""
    return Artifact(
        name="run-results", path=RUN_RESULTS_PATH, optional=True, archive=NoneArchiveStrategy()
    )


def _restricted_container_context() -> SecurityContext:
    return SecurityContext(
        run_as_non_root=True,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=Capabilities(drop=["ALL"]),
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def _pod_security_context() -> PodSecurityContext:
    return PodSecurityContext(
        run_as_non_root=True,
        run_as_user=RUNTIME_UID,
        run_as_group=RUNTIME_UID,
        fs_group=RUNTIME_UID,
        seccomp_profile=SeccompProfile(type="RuntimeDefault"),
    )


def _environment() -> list[Env | FieldEnv]:
    return [
        Env(name="WORKFLOW_NAME", value="{{workflow.name}}"),
        Env(name="WORKFLOW_UID", value="{{workflow.uid}}"),
        FieldEnv(name="POD_NAME", field_path="metadata.name"),
        FieldEnv(name="POD_NAMESPACE", field_path="metadata.namespace"),
        Env(name="DBT_TARGET_PATH", value="/work/target"),
        Env(name="DBT_LOG_PATH", value="/work/logs"),
        Env(name="TMPDIR", value="/tmp"),  # noqa: S108 - an emptyDir mount, not shared /tmp
        Env(name="PUSHGATEWAY_URL", value=helm.value(".Values.metrics.pushgatewayUrl | quote")),
        # The image this pod runs, into dbt's run_results metadata (a resumed run compares it).
        Env(
            name=DBT_METADATA_ENV_PREFIX + IMAGE_METADATA_KEY,
            value=helm.value('include "dbt-workbench.image" . | quote'),
        ),
    ]


def _scratch_volumes() -> list[EmptyDirVolume]:
    """The only writable paths; the root filesystem is read-only."""
    return [
        EmptyDirVolume(name="dbt-target", mount_path="/work/target", size_limit=Quantity("1Gi")),
        EmptyDirVolume(name="dbt-logs", mount_path="/work/logs", size_limit=Quantity("512Mi")),
        EmptyDirVolume(name="tmp", mount_path="/tmp", size_limit=Quantity("1Gi")),  # noqa: S108
    ]


def _postgres_secret() -> SecretEnvFrom:
    return SecretEnvFrom(name=helm.value(".Values.postgres.existingSecret | quote"))


def _aws_secret() -> SecretEnvFrom:
    # Optional: without it boto3 uses the pod's identity (IRSA / workload identity).
    return SecretEnvFrom(name=helm.value(".Values.docs.awsSecret | quote"), optional=True)


# What `workbench embed` reads after a platinum or all build: values key -> variable. Empty
# values keep the runtime's defaults (it strips and falls back); docs/embeddings.md.
EMBED_VALUES: dict[str, str] = {
    "provider": EMBED_PROVIDER_ENV,
    "url": EMBED_URL_ENV,
    "model": EMBED_MODEL_ENV,
    "dimensions": EMBED_DIMENSIONS_ENV,
    "windowDays": EMBED_WINDOW_DAYS_ENV,
}


def _embed_environment() -> list[Env | SecretEnv]:
    return [
        *(
            Env(name=env, value=helm.value(f".Values.embed.{key} | toString | quote"))
            for key, env in EMBED_VALUES.items()
        ),
        # Optional: no Secret (the in-package model, the hashing baseline) is no key.
        SecretEnv(
            name=EMBED_API_KEY_ENV,
            secret_name=helm.value(".Values.embed.apiKeySecret.name | quote"),
            secret_key=helm.value(".Values.embed.apiKeySecret.key | quote"),
            optional=True,
        ),
    ]


def _dbt_run_container() -> Container:
    return Container(
        name=RUN_ENTRYPOINT,
        image=helm.value('include "dbt-workbench.image" . | quote'),
        image_pull_policy="IfNotPresent",  # replaced by values, see workflows.helm_fields
        command=RUNTIME_COMMAND,
        inputs=[Parameter(name=name) for name in RUN_PARAMETER_OPTIONS],
        # A list, never a shell: parameters reach `workbench run` as single argv entries,
        # `--opt=value` so that a value starting with "-" is never read as an option.
        args=[
            "run",
            *(
                f"{option}={{{{inputs.parameters.{name}}}}}"
                for name, option in RUN_PARAMETER_OPTIONS.items()
            ),
        ],
        env=[
            *_environment(),
            # Where the run keeps its dbt artifacts (run_results, manifest); empty = not kept.
            Env(
                name="WORKBENCH_ARTIFACTS_URL",
                value=helm.value('include "dbt-workbench.runArtifactsUrl" . | quote'),
            ),
            Env(name=OUTPUTS_DIR_ENV, value=OUTPUTS_DIR),
            *_embed_environment(),
        ],
        env_from=[_postgres_secret(), _aws_secret()],
        security_context=_restricted_container_context(),
        volumes=[
            *_scratch_volumes(),
            EmptyDirVolume(name="outputs", mount_path=OUTPUTS_DIR, size_limit=Quantity("1Mi")),
        ],
        outputs=[*run_output_parameters(), run_results_artifact()],
        # The layer's own time and retry budget, whatever started the run (workflows.budget).
        active_deadline_seconds=attempt_deadline(),
        retry_strategy=retry_strategy(retry_limit(), attempt_deadline()),
    )


def _docs_publish_container() -> Container:
    job = job_of_entrypoint(DOCS_ENTRYPOINT)
    return Container(
        name=DOCS_ENTRYPOINT,
        image=helm.value('include "dbt-workbench.image" . | quote'),
        image_pull_policy="IfNotPresent",  # replaced by values, see workflows.helm_fields
        command=RUNTIME_COMMAND,
        args=["docs", "--publish", helm.value('include "dbt-workbench.docsUrl" . | quote')],
        env=_environment(),
        env_from=[_postgres_secret(), _aws_secret()],
        security_context=_restricted_container_context(),
        volumes=_scratch_volumes(),
        active_deadline_seconds=job.timeout_seconds,
        retry_strategy=retry_strategy(job.retry_limit, job.timeout_seconds),
    )


# The pull's sources file: the chart's ConfigMap (templates/ingest-sources.yaml), which exists
# only when values configure pulls. Optional, so a pull started without it (`--entrypoint
# pull-then-run` on a release with no pulls) exits 3 on the missing file instead of hanging in
# ContainerCreating; the Drive key's Secret volume is added by workflows.helm_fields.
INGEST_SOURCES_VOLUME = "ingest-sources"
PULL_EXIT_CODE_DESCRIPTION = (
    "The pull's exit code, the most serious of its sources' (3 configuration > 1 data failure"
    " > 2 transient > 0 ok): which sources failed is in the step's ingest.source log events"
    " and the workbench_ingest_* metrics by source."
)
# Argo's `depends`: the build runs once the pull is over, whatever its outcome (dag.go
# evaluateDependsLogic); `||`, not `or`, which ancestry.go's task-name regex would read as a
# task name.
PULL_OVER = " || ".join(f"{PULL_STEP}.{result}" for result in ("Succeeded", "Failed", "Errored"))


def _pull_container() -> Container:
    """`workbench ingest --sources <the ConfigMap's file>`: every configured source, each
    reported on its own; the exit code is the most serious of theirs."""
    return Container(
        name=PULL_STEP,
        image=helm.value('include "dbt-workbench.image" . | quote'),
        image_pull_policy="IfNotPresent",  # replaced by values, see workflows.helm_fields
        command=RUNTIME_COMMAND,
        args=["ingest", "--sources", INGEST_SOURCES_PATH],
        env=[
            *_environment(),
            Env(name=OUTPUTS_DIR_ENV, value=OUTPUTS_DIR),
            # The key file exists only with ingest.gdrive.credentialsSecret (helm_fields); the
            # chart refuses a gdrive:// pull without it, so nothing reads a missing file.
            Env(name=GOOGLE_CREDENTIALS_ENV, value=GDRIVE_CREDENTIALS_PATH),
            # Empty = the runtime's default (the runtime strips and falls back).
            Env(name=GDRIVE_API_URL_ENV, value=helm.value(".Values.ingest.gdrive.apiUrl | quote")),
            Env(
                name=INGEST_MAX_ERROR_SHARE_ENV,
                value=helm.value(".Values.ingest.maxErrorShare | toString | quote"),
            ),
        ],
        # PostgreSQL, and the AWS keys for s3:// sources (optional: IRSA otherwise).
        env_from=[_postgres_secret(), _aws_secret()],
        security_context=_restricted_container_context(),
        volumes=[
            EmptyDirVolume(name="tmp", mount_path="/tmp", size_limit=Quantity("1Gi")),  # noqa: S108
            EmptyDirVolume(name="outputs", mount_path=OUTPUTS_DIR, size_limit=Quantity("1Mi")),
            # The ConfigMap's name is the release's: set by workflows.helm_fields.
            ConfigMapVolume(
                name=INGEST_SOURCES_VOLUME,
                mount_path=INGEST_SOURCES_MOUNT_DIR,
                read_only=True,
                optional=True,
                items=[KeyToPath(key=INGEST_SOURCES_FILE_NAME, path=INGEST_SOURCES_FILE_NAME)],
            ),
        ],
        outputs=[
            Parameter(
                name=EXIT_CODE_OUTPUT,
                description=PULL_EXIT_CODE_DESCRIPTION,
                global_name=PULL_EXIT_CODE_OUTPUT,
                value_from=ValueFrom(
                    path=f"{OUTPUTS_DIR}/{EXIT_CODE_OUTPUT}", default=OUTPUT_DEFAULT
                ),
            )
        ],
        active_deadline_seconds=PULL_TIMEOUT_SECONDS,
        retry_strategy=retry_strategy(PULL_RETRY_LIMIT, PULL_TIMEOUT_SECONDS),
    )


def _pull_then_run_dag() -> DAG:
    """The pull, then the layer's dbt-run whatever the pull did: what landed is built.

    `target` names both tasks and failFast is off, so the DAG (and the Workflow) ends Failed
    when the pull failed even though the build succeeded, but only after the build has run:
    argo-workflows v4.1.2 dag.go:303-308 (target tasks), 216-243 (every target is looked at; a
    failed one fails the DAG, and with failFast off one not yet run keeps it Running first).
    `depends` instead of continueOn: validate.go:1476-1477 refuses continueOn beside it."""
    with DAG(
        name=PULL_RUN_ENTRYPOINT,
        target=f"{PULL_STEP} {RUN_ENTRYPOINT}",
        fail_fast=False,
    ) as dag:
        Task(name=PULL_STEP, template=PULL_STEP)
        Task(
            name=RUN_ENTRYPOINT,
            template=RUN_ENTRYPOINT,
            depends=PULL_OVER,
            arguments=[
                Parameter(name=name, value=f"{{{{workflow.parameters.{name}}}}}")
                for name in RUN_PARAMETER_OPTIONS
            ],
        )
    return dag


def build_workflow_template() -> WorkflowTemplate:
    with WorkflowTemplate(
        name=TEMPLATE_NAME_PLACEHOLDER,
        annotations={
            "workflows.argoproj.io/title": "dbt Workbench: build a medallion layer",
            "workflows.argoproj.io/description": (
                "Runs workbench run (dbt build) for one layer of the Scout Retail project: "
                "bronze, silver, gold, platinum, all, or maintenance (silver+ gold+). "
                "Entrypoint docs-publish publishes dbt docs to S3 instead."
            ),
        },
        entrypoint=RUN_ENTRYPOINT,
        arguments=[
            Parameter(
                name="layer",
                value=DEFAULT_LAYER,
                enum=list(LAYERS),
                description=(
                    "Layer to build: a selector in dbt/selectors.yml. maintenance = silver+ gold+."
                ),
            ),
            Parameter(
                name="select",
                value="",
                description="Optional dbt --select that replaces the layer's selector.",
            ),
            Parameter(
                name="exclude",
                value="",
                description="Optional dbt --exclude that replaces the layer's selector.",
            ),
            Parameter(
                name="full_refresh",
                value="false",
                enum=list(BOOLEAN_CHOICES),
                description="Rebuild incremental models from scratch.",
            ),
            Parameter(
                name="retry_of",
                value="",
                description=(
                    "Optional: the invocation id (ops.dbt_invocations) of a failed run of this"
                    " layer to resume with dbt retry, on this template's current image."
                ),
            ),
        ],
        service_account_name=helm.value('include "dbt-workbench.serviceAccountName" . | quote'),
        security_context=_pod_security_context(),
        # Which layers the run touches, as Argo mutexes (see workflows.mutexes).
        synchronization=workflow_synchronization(),
        metrics=workflow_metrics(),
        # An integer outer bound; each template's own deadline is the layer's (workflows.budget).
        active_deadline_seconds=ON_DEMAND_TIMEOUT_SECONDS,
        # Successful pods go at once; failed pods (and their logs) stay until the TTL below.
        pod_gc=PodGC(strategy="OnPodSuccess"),
        ttl_strategy=TTLStrategy(
            seconds_after_success=SECONDS_AFTER_SUCCESS, seconds_after_failure=SECONDS_AFTER_FAILURE
        ),
    ) as template:
        _dbt_run_container()
        _docs_publish_container()
        _pull_container()
        _pull_then_run_dag()
    return template
