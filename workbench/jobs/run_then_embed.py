"""`workbench run --layer L`: the layer's dbt build, then, for platinum, its vectors.

A successful build of a layer in EMBED_AFTER_LAYERS (its whole selector) is followed by one
embed pass (docs/embeddings.md), so the on-demand workflow and `argo submit -p layer=platinum`
deliver vectors, not only their texts. The embed pass takes the platinum lock after the build
released it. Exit code: the build's when it failed; else the embed's, except that a server
without pgvector is said once (`embed.skipped`) and ends 0: the dbt layer does not need it.
"""

from __future__ import annotations

import argparse

from workbench.config import PostgresSettings
from workbench.contract import EMBED_AFTER_LAYERS, ExitCode
from workbench.embed.command import embed_now
from workbench.params import parse_lock_timeout
from workbench.run import command as run_command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    run_command.add_arguments(parser)
    parser.add_argument(
        "--no-embed",
        action="store_true",
        help=f"after a {' or '.join(EMBED_AFTER_LAYERS)} build, do not embed platinum's new texts",
    )


def embeds_after(args: argparse.Namespace) -> bool:
    """Whether this run's build covers every platinum model, so embedding follows it."""
    return (
        not args.no_embed
        and args.layer.strip() in EMBED_AFTER_LAYERS
        and not args.select.strip()
        and not args.exclude.strip()
    )


def execute(args: argparse.Namespace) -> int:
    code = run_command.execute(args)
    if code != ExitCode.SUCCESS or not embeds_after(args):
        return code
    # Both were validated by the build that just succeeded.
    return embed_now(
        PostgresSettings.from_env(),
        lock_timeout_seconds=parse_lock_timeout(args.lock_timeout),
        vectors_optional=True,
    )
