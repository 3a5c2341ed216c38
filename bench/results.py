"""Benchmark results: one JSON file per benchmark and a markdown summary table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.stats import Series


@dataclass(frozen=True)
class Side:
    """One side of a comparison: what ran and how long it took each time."""

    label: str
    command: str
    seconds: Series

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "command": self.command, "seconds": self.seconds.as_dict()}


@dataclass
class BenchResult:
    name: str
    title: str
    scale: int
    target: float  # the ratio candidate/baseline (medians) must be at or below this
    target_text: str
    candidate: Side | None = None
    baseline: Side | None = None
    extra: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    not_measured_reason: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.candidate is None or self.baseline is None or self.baseline.seconds.median <= 0:
            return None
        return self.candidate.seconds.median / self.baseline.seconds.median

    @property
    def meets_target(self) -> bool | None:
        ratio = self.ratio
        return None if ratio is None else ratio <= self.target

    def as_dict(self, machine: dict[str, object], repeats: int) -> dict[str, object]:
        ratio = self.ratio
        return {
            "name": self.name,
            "title": self.title,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "status": "not_measured" if self.not_measured_reason else "measured",
            "not_measured_reason": self.not_measured_reason,
            "scale": self.scale,
            "repeats": repeats,
            "candidate": self.candidate.as_dict() if self.candidate else None,
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "ratio": None if ratio is None else round(ratio, 4),
            "ratio_definition": "median(candidate seconds) / median(baseline seconds)",
            "target": self.target,
            "target_text": self.target_text,
            "meets_target": self.meets_target,
            "extra": self.extra,
            "notes": self.notes,
            "machine": machine,
        }


def write_result(
    result: BenchResult, results_dir: Path, machine: dict[str, object], repeats: int
) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.name}.json"
    path.write_text(json.dumps(result.as_dict(machine, repeats), indent=2) + "\n")
    return path


def _fmt(side: dict[str, object] | None) -> str:
    if not side:
        return "-"
    s = side["seconds"]
    assert isinstance(s, dict)
    return f"{s['median']:.2f} s ({s['min']:.2f}-{s['max']:.2f})"


def summary_markdown(results_dir: Path) -> str:
    """The table of every bench/results/*.json (whatever run last wrote each of them)."""
    rows = [
        "| benchmark | scale | candidate median (min-max) | baseline median (min-max) "
        "| ratio | target | meets target | measured (UTC), commit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text())
        commit = data.get("machine", {}).get("git_commit", "?")
        when = f"{str(data.get('measured_at', '?'))[:16]}, {commit}"
        if data.get("status") == "not_measured":
            rows.append(
                f"| {data['title']} | {data['scale']:,} | not measured | | | "
                f"{data['target_text']} | - | {when} |"
            )
            notes.append(f"- {data['title']}: not measured — {data['not_measured_reason']}")
            continue
        ratio = data.get("ratio")
        verdict = {True: "yes", False: "**no**", None: "-"}[data.get("meets_target")]
        rows.append(
            f"| {data['title']} | {data['scale']:,} | {_fmt(data['candidate'])} "
            f"| {_fmt(data['baseline'])} | {'-' if ratio is None else f'{ratio:.2f}'} "
            f"| {data['target_text']} | {verdict} | {when} |"
        )
        for key, value in data.get("extra", {}).items():
            if key.startswith("headline_"):
                notes.append(f"- {data['title']}: {key.removeprefix('headline_')} = {value}")
    machine = {}
    for path in sorted(results_dir.glob("*.json")):
        machine = json.loads(path.read_text()).get("machine", {})
        break
    header = (
        f"Measured on {machine.get('cpu_model', '?')} ({machine.get('cpu_count', '?')} CPUs, "
        f"{machine.get('memory_gb', '?')} GB), PostgreSQL {machine.get('postgres', '?')}; each "
        "row's date and commit in its last column (a row is whatever run last wrote its JSON). "
        "Times are wall-clock seconds, "
        "median of the repeats with min-max in parentheses; ratio = candidate median / "
        "baseline median."
    )
    return "\n".join([header, "", *rows, "", *notes, ""])
