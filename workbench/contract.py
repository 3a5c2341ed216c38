"""The facts the runtime and the workflows share, each written once.

Dependency-free on purpose (standard library only): `workflows/` imports this module and
nothing else from `workbench/`, and every module of the runtime may import it. What is
defined here is *derived* everywhere else: the Argo retry expression and alert rules from
`ExitCode`, the Argo mutexes and the advisory locks from `LAYER_LOCKS`, the dbt var
`business_timezone` from `BUSINESS_TIMEZONE`, the raw tables' CHECK constraint and bronze's
accepted values from `SOURCES`, and so on. A test (tests/test_contract.py) checks that the
copies dbt needs as literals (YAML, SQL) are equal to these values.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit-code contract every `workbench` command keeps and Argo's retryStrategy reads."""

    SUCCESS = 0
    # A model or test failed, or the input is garbage: a retry would fail the same way.
    FAILURE = 1
    # Transient: connection lost, deadlock, serialization failure, lock timeout, SIGTERM, an
    # unreachable endpoint, or an unexpected exception. Argo retries it.
    RUNTIME_ERROR = 2
    # Configuration or usage: a bad parameter, a usage error, a refused password, a missing
    # setting or secret. A retry cannot help; a person must fix it. Never retried.
    CONFIGURATION_ERROR = 3


# Exit codes a retry cannot heal (the retry expression and the alert rules read this).
FINAL_EXIT_CODES: tuple[ExitCode, ...] = (ExitCode.FAILURE, ExitCode.CONFIGURATION_ERROR)

# --- layers, their locks and the business day ---------------------------------------------

# The medallion layers in build order; also the fixed lock-acquisition order, so a run that
# needs several layers can never deadlock another.
LOCK_ORDER: tuple[str, ...] = ("bronze", "silver", "gold", "platinum")
# Which layers each `workbench run --layer` touches: the one table of mutual exclusion. The
# runtime's PostgreSQL advisory locks and the WorkflowTemplate's Argo mutexes both read it.
LAYER_LOCKS: dict[str, tuple[str, ...]] = {
    "bronze": ("bronze",),
    "silver": ("silver",),
    "gold": ("gold",),
    "platinum": ("platinum",),
    "all": LOCK_ORDER,
    "maintenance": ("silver", "gold", "platinum"),
}
# `workbench run --layer` values; each names a selector in dbt/selectors.yml.
LAYERS: tuple[str, ...] = tuple(LAYER_LOCKS)
# The docs publish reads the catalog but writes no layer: it only excludes another publish.
DOCS_LOCK = "docs"

# Scout Retail stores trade in the Philippines: schedules read as local wall-clock times and a
# sale's business day is its date there (dbt var `business_timezone`).
BUSINESS_TIMEZONE = "Asia/Manila"
# Every database session the runtime opens reads and writes timestamps in UTC, whatever the
# server's own `timezone` setting is.
SESSION_TIMEZONE = "UTC"

# --- raw landing -------------------------------------------------------------------------

# `workbench ingest --entity` values and the raw tables they land in.
ENTITIES: tuple[str, ...] = ("transactions", "products")
# The systems a raw record can come from (raw.<entity>.source; bronze's accepted values).
SOURCES: tuple[str, ...] = ("csv", "jsonl", "webhook", "gdrive", "api")

# Why silver rejects a transaction version, in the order the model checks them: a version's
# primary reason (silver_rejected_transactions.rejection_reason) is the first that applies.
# The model's CASE list (dbt/models/silver/silver_transaction_checks.sql) is tested against it.
REJECTION_REASONS: tuple[str, ...] = (
    "missing_transaction_id",
    "invalid_type",
    "missing_required_field",
    "invalid_enum",
    "unknown_category",
    "non_positive_amount",
    "future_date",
    "before_earliest_date",
    "unknown_product",
    "amount_mismatch",
)
# The reasons that depend on something outside the record (the catalog, the business day): a
# version rejected for one of them is judged again on every incremental run (dbt macro
# rejudged_reasons()).
REJUDGED_REASONS: tuple[str, ...] = ("unknown_product", "future_date")

# --- the workflow's interface (Argo parameters and outputs) --------------------------------

# Output parameters `workbench run` writes (one file each under WORKBENCH_OUTPUTS_DIR) and the
# WorkflowTemplate declares; the Argo UI shows them on the node.
OUTPUTS_DIR_ENV = "WORKBENCH_OUTPUTS_DIR"
OUTPUT_NAMES: tuple[str, ...] = (
    "outcome",
    "models_built",
    "tests_passed",
    "tests_failed",
    "failed_nodes",
)

# The WorkflowTemplate's parameters of a dbt run and the `workbench run` option each becomes
# (a parameter `p` reaches the runtime as one argv entry `<option>=<value>`, never a shell).
RUN_PARAMETER_OPTIONS: dict[str, str] = {
    "layer": "--layer",
    "select": "--select",
    "exclude": "--exclude",
    "full_refresh": "--full-refresh",
    # A failed invocation to resume with `dbt retry` (a new Workflow, e.g. after a fix that
    # `argo retry` would not pick up); empty = none.
    "retry_of": "--retry-of",
}
# How a boolean parameter is spelled in a workflow (the Argo UI shows these as its choices).
BOOLEAN_CHOICES: tuple[str, str] = ("false", "true")


def run_arguments(
    layer: str,
    *,
    select: str = "",
    exclude: str = "",
    full_refresh: bool = False,
    retry_of: str = "",
) -> dict[str, str]:
    """A dbt run's workflow parameters, by name, as strings as Argo carries them."""
    values = {
        "layer": layer,
        "select": select,
        "exclude": exclude,
        "full_refresh": BOOLEAN_CHOICES[int(full_refresh)],
        "retry_of": retry_of,
    }
    return {name: values[name] for name in RUN_PARAMETER_OPTIONS}


def describe_exit_codes() -> str:
    """`0 success, 1 failure, …`: every code, for help texts and metric descriptions."""
    return ", ".join(f"{int(code)} {code.name.lower().replace('_', ' ')}" for code in ExitCode)


# --- ingest: garbage, object storage, Google Drive, scheduled pulls (issue 18) -------------

# A file whose unparseable lines exceed this share of its lines (or that yields no record at
# all, empty files included) is a data failure (ExitCode.FAILURE), not a landing.
INGEST_MAX_ERROR_SHARE_ENV = "WORKBENCH_INGEST_MAX_ERROR_SHARE"
INGEST_MAX_ERROR_SHARE_DEFAULT = 0.5
# An unparseable line longer than this is kept as its first this-many bytes in
# raw.ingest_errors.raw_text, its full length and SHA-256 in the reason.
INGEST_ERROR_TEXT_MAX_BYTES = 64 * 1024
# Google Drive (`workbench ingest gdrive://<folder id>[/<glob>]`): the service-account key file
# and the API's base URL (requests go to <base>/drive/v3/files...).
GOOGLE_CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
GDRIVE_API_URL_ENV = "WORKBENCH_GDRIVE_API_URL"
GDRIVE_API_URL_DEFAULT = "https://www.googleapis.com"
# `workbench ingest --sources FILE`: the step's exit code is the most serious of its sources
# in this order (a retry of the step is worth it only when every failure was transient).
INGEST_SEVERITY: tuple[ExitCode, ...] = (
    ExitCode.CONFIGURATION_ERROR,
    ExitCode.FAILURE,
    ExitCode.RUNTIME_ERROR,
    ExitCode.SUCCESS,
)


# --- the HTTP landing service (`workbench serve`, issue 17) --------------------------------

# The environment `workbench serve` reads and the chart's serve Deployment sets. The token is a
# secret (the redactor masks its value in every log line); the chart fills it from a Secret.
SERVE_TOKEN_ENV = "WORKBENCH_INGEST_TOKEN"  # noqa: S105 - a variable name, not a secret
# Set to `batch` in the environment of the serve follower's `workbench run --layer bronze`: its
# data tests read the micro-batch (dbt/macros/test_scope.sql reads it at run time). An
# environment variable, not `--vars`: dbt reuses the image's pre-parsed manifest only for the
# --vars it was parsed with, so a var would cost every follower run a full parse.
TEST_SCOPE_ENV = "WORKBENCH_TEST_SCOPE"
SERVE_MAX_BODY_BYTES_ENV = "WORKBENCH_SERVE_MAX_BODY_BYTES"
SERVE_IDEMPOTENCY_RETENTION_ENV = "WORKBENCH_SERVE_IDEMPOTENCY_RETENTION_SECONDS"
SERVE_DRAIN_SECONDS_ENV = "WORKBENCH_SERVE_DRAIN_SECONDS"
SERVE_BRONZE_DEBOUNCE_ENV = "WORKBENCH_SERVE_BRONZE_DEBOUNCE_SECONDS"
SERVE_IDEMPOTENCY_WAIT_ENV = "WORKBENCH_SERVE_IDEMPOTENCY_WAIT_SECONDS"
# Defaults: 10 MiB bodies, keys remembered 24 h, 20 s to finish in-flight requests on SIGTERM
# (the pod's terminationGracePeriodSeconds must exceed it), bronze 5 s after a landing, and a
# request whose Idempotency-Key is still in flight waits up to 30 s for it, then gets 409.
SERVE_PORT = 8080
SERVE_MAX_BODY_BYTES = 10 * 1024 * 1024
SERVE_IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600
SERVE_DRAIN_SECONDS = 20
SERVE_BRONZE_DEBOUNCE_SECONDS = 5.0
SERVE_IDEMPOTENCY_WAIT_SECONDS = 30
# The probe and scrape paths (the chart's probes and PodMonitor name them).
SERVE_HEALTH_PATH = "/healthz"
SERVE_READY_PATH = "/readyz"
SERVE_METRICS_PATH = "/metrics"


def serve_entity_path(entity: str) -> str:
    """`/v1/transactions`: where records of one entity are POSTed."""
    return f"/v1/{entity}"


# --- embeddings (issue 20): `workbench embed` and `workbench search` ----------------------

# Which provider turns texts into vectors (docs/embeddings.md): the in-package model when the
# `embed` extra is installed, else the hashing baseline; `openai` for any compatible endpoint.
EMBED_PROVIDERS: tuple[str, ...] = ("wordllama", "hashing", "openai")
EMBED_PROVIDER_ENV = "WORKBENCH_EMBED_PROVIDER"
EMBED_MODEL_ENV = "WORKBENCH_EMBED_MODEL"
EMBED_DIMENSIONS_ENV = "WORKBENCH_EMBED_DIMENSIONS"
# The OpenAI-compatible endpoint's base URL (…/v1) and key; the key comes from a Secret.
EMBED_URL_ENV = "WORKBENCH_EMBED_URL"
EMBED_API_KEY_ENV = "WORKBENCH_EMBED_API_KEY"
# Transaction texts embedded: those dated within this many days of the newest sale.
EMBED_WINDOW_DAYS_ENV = "WORKBENCH_EMBED_WINDOW_DAYS"
DEFAULT_EMBED_WINDOW_DAYS = 90
# `workbench run --layer L` for these layers (their whole selector, no --select/--exclude) embeds
# platinum's new texts after a successful build, so every platinum build delivers vectors.
EMBED_AFTER_LAYERS: tuple[str, ...] = ("platinum", "all")

# --- Argo: what a finished run reports (issue 19) ------------------------------------------

# Every `workbench` command writes its exit code to $WORKBENCH_OUTPUTS_DIR/<this> (when set);
# the run template declares it as an output with this globalName, so the Workflow's own
# outputs say why it ended (the controller's final message for a refused retry does not).
EXIT_CODE_OUTPUT = "exit_code"
# The scheduled pull step (chart values `ingest.pulls`): the ConfigMap <fullname>-ingest-sources
# holds the sources file under this key, mounted in the step's pod at this directory; the Drive
# key (a Secret) is mounted as a file the same way and GOOGLE_APPLICATION_CREDENTIALS names it.
# The step runs `workbench ingest --sources <INGEST_SOURCES_MOUNT_DIR>/<INGEST_SOURCES_FILE_NAME>`.
INGEST_SOURCES_MOUNT_DIR = "/etc/workbench/ingest"
INGEST_SOURCES_FILE_NAME = "sources.yaml"
GDRIVE_CREDENTIALS_MOUNT_DIR = "/etc/workbench/gdrive"
GDRIVE_CREDENTIALS_FILE_NAME = "credentials.json"
INGEST_SOURCES_PATH = f"{INGEST_SOURCES_MOUNT_DIR}/{INGEST_SOURCES_FILE_NAME}"
GDRIVE_CREDENTIALS_PATH = f"{GDRIVE_CREDENTIALS_MOUNT_DIR}/{GDRIVE_CREDENTIALS_FILE_NAME}"
# The pull's step (a DAG task and its template) in the Workflow, and the Workflow output its
# exit code becomes (the most serious of its sources, INGEST_SEVERITY): the Workflow's own
# EXIT_CODE_OUTPUT stays the dbt build's.
PULL_STEP = "pull"
PULL_EXIT_CODE_OUTPUT = "pull_exit_code"

# Which code a run executes, recorded by dbt itself: dbt copies every DBT_ENV_CUSTOM_ENV_<key>
# variable into its artifacts' metadata.env under <key>, so a failed run's run_results.json
# (kept for `dbt retry`) says which image and commit it ran. The image sets the revision; the
# WorkflowTemplate sets the image reference.
DBT_METADATA_ENV_PREFIX = "DBT_ENV_CUSTOM_ENV_"
IMAGE_METADATA_KEY = "WORKBENCH_IMAGE"
REVISION_METADATA_KEY = "WORKBENCH_REVISION"
