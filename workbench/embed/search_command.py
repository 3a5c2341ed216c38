"""`workbench search "instant noodles" --top 10 [--json]`: catalog products nearest in meaning."""

from __future__ import annotations

import argparse
import json

import psycopg
import structlog

from workbench.config import ConfigError, PostgresSettings
from workbench.contract import ExitCode
from workbench.embed.provider import EmbedError
from workbench.embed.providers import build_embedder
from workbench.embed.search import Match, search_products
from workbench.embed.settings import EmbedSettings
from workbench.exit_codes import classify_database_error
from workbench.observability.logging import ensure_logging_configured

MAX_TOP = 1000
log = structlog.get_logger("workbench.search")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="what to look for, in words")
    parser.add_argument("--top", type=int, default=10, help="how many products (default 10)")
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per product (product_id, category, score, ...) on stdout",
    )


def render(matches: list[Match], as_json: bool) -> str:
    if as_json:
        return "".join(json.dumps(match.as_dict()) + "\n" for match in matches)
    lines = [f"{'score':>6}  {'product_id':<10}  {'category':<15}  product"]
    for match in matches:
        product = " / ".join(part for part in (match.product_name, match.brand) if part)
        lines.append(
            f"{match.score:>6.3f}  {match.product_id:<10}  {match.category or '-':<15}  {product}"
        )
    return "\n".join(lines) + "\n"


def execute(args: argparse.Namespace) -> int:
    ensure_logging_configured()
    query = args.query.strip()
    if not query or not 1 <= args.top <= MAX_TOP:
        log.error(
            "invalid_parameters", error=f"give a non-empty query and --top from 1 to {MAX_TOP}"
        )
        return int(ExitCode.CONFIGURATION_ERROR)
    try:
        settings = PostgresSettings.from_env()
        embed_settings = EmbedSettings.from_env()
        matches = search_products(settings, build_embedder(embed_settings), query, args.top)
    except ConfigError as exc:
        log.error("invalid_parameters", error=str(exc))
        return int(ExitCode.CONFIGURATION_ERROR)
    except EmbedError as exc:
        log.error("search.failed", error=str(exc))
        return int(exc.exit_code)
    except psycopg.Error as exc:
        log.error("search.database_error", error=str(exc))
        return int(classify_database_error(str(exc)))
    print(render(matches, args.json), end="", flush=True)
    return int(ExitCode.SUCCESS)
