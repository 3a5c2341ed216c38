"""Workflow parameters are validated before dbt starts; dbt receives an argument list."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench.params import (
    DEFAULT_LOCK_TIMEOUT_SECONDS,
    LAYERS,
    ParamError,
    RunParams,
    parse_full_refresh,
    parse_lock_timeout,
    parse_run_params,
    parse_selection,
    parse_vars,
)
from workbench.run.dbt_build import build_args

ALLOWED_SELECTION_CHARS = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:+*@/,- "
)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_contract_layer_is_accepted(layer: str) -> None:
    assert parse_run_params(layer=layer, env={}).layer == layer


@pytest.mark.parametrize("layer", ["", "Silver", "diamond", "silver;ls", "all "])
def test_unknown_layers_are_rejected(layer: str) -> None:
    if layer.strip() in LAYERS:
        assert parse_run_params(layer=layer, env={}).layer == layer.strip()
        return
    with pytest.raises(ParamError, match="--layer must be one of"):
        parse_run_params(layer=layer, env={})


@pytest.mark.parametrize(
    "text",
    [
        "silver_validated_transactions+",
        "tag:gold,config.materialized:table",
        "+gold_category_trends @silver_products",
        "path:models/silver/*",
        "source:raw.transactions+",
    ],
)
def test_dbt_selection_syntax_is_accepted_unchanged(text: str) -> None:
    assert parse_selection("--select", text) == text


@pytest.mark.parametrize(
    "text",
    ["a;rm -rf /", "$(id)", "`id`", "a|b", "a&&b", "a>b", "x'y", 'x"y', "a\nb", "a\\b", "tag:{x}"],
)
def test_shell_metacharacters_are_rejected_with_the_offending_character(text: str) -> None:
    with pytest.raises(ParamError, match="rejected characters"):
        parse_selection("--select", text)


@pytest.mark.parametrize("text", ["--full-refresh", "model -x", "a,-b"])
def test_tokens_that_look_like_options_are_rejected(text: str) -> None:
    with pytest.raises(ParamError, match="may not start with '-'"):
        parse_selection("--exclude", text)


def test_selection_longer_than_512_characters_is_rejected() -> None:
    assert parse_selection("--select", "a" * 512) == "a" * 512
    with pytest.raises(ParamError, match="longer than 512"):
        parse_selection("--select", "a" * 513)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_selection_means_not_given(text: str | None) -> None:
    assert parse_selection("--select", text) is None


@given(st.text(max_size=80))
def test_any_accepted_selection_holds_only_grammar_characters(text: str) -> None:
    try:
        value = parse_selection("--select", text)
    except ParamError:
        return
    if value is not None:
        assert set(value) <= ALLOWED_SELECTION_CHARS
        assert not any(token.startswith("-") for token in value.replace(",", " ").split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, False),
        ("", False),
        ("true", True),
        ("TRUE", True),
        ("false", False),
        (" true ", True),
    ],
)
def test_full_refresh_values(text: str | None, expected: bool) -> None:
    assert parse_full_refresh(text) is expected


@pytest.mark.parametrize("text", ["yes", "1", "truee"])
def test_full_refresh_rejects_anything_else(text: str) -> None:
    with pytest.raises(ParamError, match="--full-refresh must be true or false"):
        parse_full_refresh(text)


def test_vars_accept_allow_listed_keys_within_bounds() -> None:
    assert parse_vars('{"anomaly_z_threshold": 2.5, "anomaly_window_weeks": 12}') == {
        "anomaly_z_threshold": 2.5,
        "anomaly_window_weeks": 12,
    }
    assert parse_vars("") == {}
    assert parse_vars('{"test_scope": "full"}') == {"test_scope": "full"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "must be a JSON object"),
        ("{not json", "must be a JSON object"),
        ('{"schema": "public"}', "keys not allowed: schema"),
        ('{"anomaly_z_threshold": "3"}', "must be a number"),
        ('{"anomaly_z_threshold": true}', "must be a number"),
        ('{"anomaly_z_threshold": 1e9}', "between"),
        ('{"anomaly_window_weeks": 8.5}', "must be an integer"),
        ('{"amount_tolerance": -1}', "between"),
        ('{"anomaly_z_threshold": 3' + " " * 3000 + "}", "longer than"),
        ('{"test_scope": "some"}', "one of auto, batch, full"),
    ],
)
def test_vars_rejections_say_why(text: str, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        parse_vars(text)


def test_lock_timeout_from_flag_then_env_then_default() -> None:
    env = {"WORKBENCH_LOCK_TIMEOUT_SECONDS": "30"}
    assert parse_lock_timeout("5", env) == 5.0
    assert parse_lock_timeout("", env) == 30.0
    assert parse_lock_timeout("", {}) == DEFAULT_LOCK_TIMEOUT_SECONDS
    with pytest.raises(ParamError, match="WORKBENCH_LOCK_TIMEOUT_SECONDS must be a number"):
        parse_lock_timeout("", {"WORKBENCH_LOCK_TIMEOUT_SECONDS": "soon"})
    with pytest.raises(ParamError, match="between 0 and"):
        parse_lock_timeout("-1", {})


def test_layer_runs_its_selector() -> None:
    args = build_args(RunParams(layer="gold"), Path("/p"))
    assert args[0] == "build"
    assert args[args.index("--selector") + 1] == "gold"
    assert args[args.index("--project-dir") + 1] == "/p"
    assert args[args.index("--profiles-dir") + 1] == "/p"
    assert "--select" not in args and "--full-refresh" not in args and "--vars" not in args
    # dbt's own console logging is off: stdout belongs to our JSON events.
    assert args[args.index("--log-level") + 1] == "none"


def test_select_and_exclude_replace_the_selector_as_single_arguments() -> None:
    params = parse_run_params(
        layer="silver",
        select="silver_products+ tag:gold",
        exclude="gold_monthly_summary",
        full_refresh="true",
        vars_json='{"anomaly_z_threshold": 2}',
        env={},
    )
    args = build_args(params, Path("/p"))
    assert "--selector" not in args
    assert args[args.index("--select") + 1] == "silver_products+ tag:gold"
    assert args[args.index("--exclude") + 1] == "gold_monthly_summary"
    assert "--full-refresh" in args
    assert args[args.index("--vars") + 1] == '{"anomaly_z_threshold": 2}'
    assert params.selection == "select:silver_products+ tag:gold exclude:gold_monthly_summary"


def test_exclude_alone_also_replaces_the_selector() -> None:
    args = build_args(parse_run_params(layer="gold", exclude="tag:slow", env={}), Path("/p"))
    assert "--selector" not in args
    assert args[args.index("--exclude") + 1] == "tag:slow"
