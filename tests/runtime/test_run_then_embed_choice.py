"""Which `workbench run` invocations embed after their build (workbench/jobs/run_then_embed.py):
only a build of every platinum model — the platinum or all selector, no --select/--exclude."""

from __future__ import annotations

import pytest

from workbench.cli import UsageParser
from workbench.jobs.run_then_embed import add_arguments, embeds_after


def _args(*argv: str) -> object:
    parser = UsageParser(prog="workbench run")
    add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--layer", "platinum"), True),
        (("--layer", "all", "--full-refresh"), True),
        (("--layer", " platinum "), True),
        (("--layer", "gold"), False),
        (("--layer", "maintenance"), False),
        (("--layer", "platinum", "--no-embed"), False),
        (("--layer", "platinum", "--select", "platinum_product_embeddings"), False),
        (("--layer", "all", "--exclude", "tag:platinum"), False),
    ],
)
def test_only_a_whole_platinum_build_embeds(argv: tuple[str, ...], expected: bool) -> None:
    assert embeds_after(_args(*argv)) is expected  # type: ignore[arg-type]
