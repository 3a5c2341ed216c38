"""`workbench ingest --sources FILE`: several configured sources pulled in one step.

The file (YAML or JSON) is a list of sources, each `{uri, entity}` and optionally `source`
(raw.*.source) — the same PATHs `workbench ingest` takes: a file, glob, s3:// or gdrive:// URI.
Every source is pulled whatever happened to the ones before it; each gets an `ingest.source`
event and its metrics, and the step exits with the most serious outcome (contract
INGEST_SEVERITY: a person's problem before garbage before a transient failure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog
import yaml

from workbench.config import ConfigError
from workbench.contract import ENTITIES, INGEST_SEVERITY, SOURCES, ExitCode
from workbench.observability.ingest_metrics import SourceOutcome

log = structlog.get_logger("workbench.ingest")

_KEYS = frozenset({"uri", "entity", "source"})


@dataclass(frozen=True)
class Pull:
    uri: str
    entity: str
    source: str | None = None


def read_pulls(path: str) -> list[Pull]:
    """The sources of FILE, each checked; a ConfigError names the file and the entry."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"--sources {path}: cannot read: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"--sources {path}: not YAML or JSON: {error}") from None
    if not isinstance(document, list) or not document:
        raise ConfigError(f"--sources {path}: expected a non-empty list of {{uri, entity}}")
    return [_pull(path, number, entry) for number, entry in enumerate(document, start=1)]


def _pull(path: str, number: int, entry: object) -> Pull:
    where = f"--sources {path}, entry {number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a mapping with uri and entity")
    unknown = sorted(set(map(str, entry)) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {', '.join(unknown)} (known: uri, entity, source)"
        )
    uri, entity, source = entry.get("uri"), entry.get("entity"), entry.get("source")
    if not isinstance(uri, str) or not uri.strip():
        raise ConfigError(f"{where}: uri is missing")
    if entity not in ENTITIES:
        raise ConfigError(f"{where}: entity must be one of {', '.join(ENTITIES)}; got {entity!r}")
    if source is not None and source not in SOURCES:
        raise ConfigError(f"{where}: source must be one of {', '.join(SOURCES)}; got {source!r}")
    return Pull(uri.strip(), str(entity), source)


def pull_all(
    pulls: Sequence[Pull], *, batch_id: str, progress: bool, env: Mapping[str, str]
) -> list[SourceOutcome]:
    from workbench.ingest.run import IngestError, ingest

    outcomes: list[SourceOutcome] = []
    for pull in pulls:
        fields = {"uri": pull.uri, "entity": pull.entity, "batch_id": batch_id}
        try:
            totals = ingest(
                [pull.uri],
                entity=pull.entity,
                source=pull.source,
                batch_id=batch_id,
                progress=progress,
                env=env,
            )
        except IngestError as error:
            outcome = SourceOutcome(pull.uri, pull.entity, int(error.exit_code))
            log.error("ingest.source", **fields, exit_code=outcome.exit_code, error=str(error))
        except Exception as error:  # a bug in one source must not stop the others
            outcome = SourceOutcome(pull.uri, pull.entity, int(ExitCode.RUNTIME_ERROR))
            log.exception("ingest.source", **fields, exit_code=outcome.exit_code, error=str(error))
        else:
            code = ExitCode.FAILURE if totals["failed_files"] else ExitCode.SUCCESS
            outcome = outcome_of(pull.uri, pull.entity, code, totals)
            emit = log.error if code else log.info
            emit("ingest.source", **fields, exit_code=int(code), **totals)
        outcomes.append(outcome)
    return outcomes


def outcome_of(uri: str, entity: str, code: ExitCode, totals: Mapping[str, int]) -> SourceOutcome:
    return SourceOutcome(
        uri,
        entity,
        int(code),
        files=totals["files"],
        failed_files=totals["failed_files"],
        gone_files=totals["gone_files"],
        inserted=totals["inserted"],
        errors=totals["errors"],
    )


def worst(codes: Sequence[int]) -> ExitCode:
    """The most serious exit code of the sources (INGEST_SEVERITY), SUCCESS for none."""
    present = set(codes)
    return next((code for code in INGEST_SEVERITY if int(code) in present), ExitCode.SUCCESS)
