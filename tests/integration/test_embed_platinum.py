"""Issue 20 on a real PostgreSQL 16 with pgvector 0.6.2 (pgserver's server binaries) and the
real wordllama model from the installed wheel: platinum built by dbt from the sample catalog,
then `workbench embed` and `workbench search` exactly as a user runs them.

One database per module: the catalog is generated, landed and built once (dbt seed + run, no
tests: the dbt tests are other modules' business), and the tests run in file order on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.dbt_support import connect, run_dbt
from tests.pgcluster import PostgresCluster, free_port, temporary_cluster, temporary_database
from workbench import cli
from workbench.contract import ExitCode
from workbench.run.lock import lock_key

pytestmark = pytest.mark.integration

WORDLLAMA = "wordllama:l2_supercat-256"


@dataclass
class Platinum:
    env: dict[str, str]

    def rows(self, query: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with connect(self.env) as conn:
            return conn.execute(query, params or None).fetchall()

    def scalar(self, query: str, params: tuple[object, ...] = ()) -> Any:
        return self.rows(query, params)[0][0]


@pytest.fixture(scope="module")
def pgvector_cluster() -> Iterator[PostgresCluster]:
    with temporary_cluster("workbench-pgvector-", pgvector=True) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def platinum(
    pgvector_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platinum]:
    workdir = tmp_path_factory.mktemp("embed")
    saved = dict(os.environ)
    with temporary_database(pgvector_cluster, "embed") as env:
        os.environ.update(env)
        for name in ("WORKBENCH_EMBED_PROVIDER", "WORKBENCH_EMBED_DIMENSIONS", "PUSHGATEWAY_URL"):
            os.environ.pop(name, None)
        try:
            data = workdir / "data"
            assert cli.main(["sample-data", "--out", str(data), "--transactions", "4000"]) == 0
            assert cli.main(["ingest", str(data / "products.jsonl"), "--entity", "products"]) == 0
            transactions = str(data / "transactions-*.jsonl")
            assert cli.main(["ingest", transactions, "--entity", "transactions"]) == 0
            for args in (["seed"], ["run"]):
                done = run_dbt(args, env, workdir / "target")
                assert done.returncode == 0, done.stdout[-3000:]
            yield Platinum(env)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _workbench(
    capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, list[dict[str, Any]], str]:
    """Exit code, the JSON log events, and stdout of one command."""
    code = cli.main([*argv, "--log-format", "json"])
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return code, events, out


def _embed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, events, _ = _workbench(capsys, "embed", *argv)
    last = events[-1] if events else {}
    return code, last


def _top_categories(capsys: pytest.CaptureFixture[str], query: str) -> list[str]:
    code, _, out = _workbench(capsys, "search", query, "--top", "5", "--json")
    assert code == 0
    return [json.loads(line)["category"] for line in out.splitlines()]


def test_recommendations_build_with_empty_similar_products_before_any_embedding(
    platinum: Platinum,
) -> None:
    assert platinum.rows(
        "select count(*), count(*) filter (where similar_product_ids = '{}'), "
        "count(similarity_model_id) from platinum.platinum_product_recommendations"
    ) == [(800, 800, 0)]


def test_first_embed_stores_every_current_text_once(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    product_texts = platinum.scalar(
        "select count(distinct text_hash) from platinum.platinum_product_embeddings"
    )
    recent = platinum.scalar(
        "select count(distinct text_hash) from platinum.platinum_transaction_embeddings "
        "where transaction_date > "
        "(select max(transaction_date) from platinum.platinum_transaction_embeddings) - 90"
    )
    everything = platinum.scalar("select count(*) from platinum.platinum_transaction_embeddings")
    assert 0 < recent < everything  # the window bounds what is embedded

    code, done = _embed(capsys)

    assert code == 0, done
    assert done["event"] == "embed.done" and done["model_id"] == WORDLLAMA
    assert done["embedded_by_kind"] == {"products": product_texts, "transactions": recent}
    assert done["embedded"] == product_texts + recent
    assert platinum.rows("select model_id, dimensions from platinum_vectors.embedding_models") == [
        (WORDLLAMA, 256)
    ]


def test_a_second_embed_embeds_nothing(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    code, done = _embed(capsys)
    assert code == 0
    assert done["embedded"] == 0
    assert done["vectors_by_kind"]["products"] == platinum.scalar(
        "select count(distinct text_hash) from platinum.platinum_product_embeddings"
    )


def test_wordllama_search_puts_related_products_first(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _top_categories(capsys, "cigarettes").count("Tobacco") >= 4
    assert _top_categories(capsys, "soft drinks").count("Beverages") >= 4
    noodles = _top_categories(capsys, "instant noodles")
    assert noodles.count("Instant Noodles") >= 4 and "Household" not in noodles


def test_the_documented_search_lines(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/embeddings.md: `workbench search "instant noodles" --top 10` prints a table of ten
    products, and with `--json` one object per product; both rank the same noodles first."""
    code, _, table = _workbench(capsys, "search", "instant noodles", "--top", "10")
    assert code == 0
    header, *rows = table.splitlines()
    assert header.split() == ["score", "product_id", "category", "product"]
    assert len(rows) == 10
    code, _, lines = _workbench(capsys, "search", "instant noodles", "--top", "10", "--json")
    assert code == 0
    results = [json.loads(line) for line in lines.splitlines()]
    assert [row.split()[1] for row in rows] == [r["product_id"] for r in results]
    assert all(r["category"] == "Instant Noodles" for r in results[:5])


def test_search_json_lines_carry_product_category_and_falling_scores(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, out = _workbench(capsys, "search", "laundry detergent", "--top", "10", "--json")
    assert code == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 10
    assert {"product_id", "category", "score"} <= set(results[0])
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    known = {row[0] for row in platinum.rows("select product_id from silver.silver_products")}
    assert {r["product_id"] for r in results} <= known


def test_the_sql_function_serves_rag_callers_through_the_hnsw_index(platinum: Platinum) -> None:
    """A RAG caller passes its own query vector; the nearest products come back, and the
    planner answers the model's nearest-vector scan from its HNSW index."""
    with connect(platinum.env) as conn:
        [(name, category, vector)] = conn.execute(
            "select p.product_name, p.category, v.embedding::text "
            "from platinum.platinum_product_embeddings as p "
            "join platinum_vectors.product_vectors as v on v.text_hash = p.text_hash "
            "where p.category = 'Tobacco' order by p.product_id limit 1"
        ).fetchall()
        found = conn.execute(
            "select product_name, category, score "
            "from platinum_vectors.match_products(%s::vector, 3)",
            (vector,),
        ).fetchall()
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                "explain select text_hash from platinum_vectors.product_vectors "
                f"where model_id = '{WORDLLAMA}' "
                "order by embedding::vector(256) <=> %s::vector(256) limit 5",
                (vector,),
            ).fetchall()
        )
    assert found[0][0] == name and found[0][2] == pytest.approx(1.0, abs=1e-3)
    assert {row[1] for row in found} == {category}
    assert "hnsw" in plan


def test_recommendations_list_similar_active_products_mostly_of_the_same_category(
    platinum: Platinum,
) -> None:
    pairs = platinum.rows(
        "select r.category, n.category, n.is_active "
        "from platinum.platinum_product_recommendations as r "
        "cross join lateral unnest(r.similar_product_ids) as s (product_id) "
        "join silver.silver_products as n on n.product_id = s.product_id"
    )
    assert len(pairs) == 800 * 5
    assert all(active for _, _, active in pairs)
    same = sum(1 for mine, theirs, _ in pairs if mine == theirs)
    assert same / len(pairs) > 0.9


def test_renamed_products_get_new_vectors_and_only_they_are_embedded(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    """1 % of the catalog renamed (8 of 800, each with a text no other product shares): the
    next embed embeds exactly those 8 product texts and the recent sales' sentences that name
    them, and drops the vectors of the texts nobody has any more."""
    renamed = [
        row[0]
        for row in platinum.rows(
            "select min(product_id) from platinum.platinum_product_embeddings "
            "group by text_hash having count(*) = 1 order by 1 limit 8"
        )
    ]
    with connect(platinum.env) as conn:
        conn.execute(
            "update silver.silver_products set product_name = product_name || ' New Look' "
            "where product_id = any(%s)",
            (renamed,),
        )
    recent_sales = platinum.scalar(
        "select count(*) from platinum.platinum_transaction_embeddings where product_id = any(%s) "
        "and transaction_date > "
        "(select max(transaction_date) from platinum.platinum_transaction_embeddings) - 90",
        (renamed,),
    )
    assert recent_sales > 0
    code, done = _embed(capsys)
    assert code == 0
    assert done["embedded_by_kind"] == {"products": 8, "transactions": recent_sales}
    assert done["pruned_by_kind"] == {"products": 8, "transactions": recent_sales}
    stored = platinum.scalar(
        "select count(*) from platinum.platinum_product_embeddings as p "
        "join platinum_vectors.product_vectors as v on v.text_hash = p.text_hash "
        "where p.product_id = any(%s) and p.embedding_text like %s",
        (renamed, "%New Look%"),
    )
    assert stored == 8


def test_a_platinum_run_embeds_after_its_build_unless_told_not_to(
    platinum: Platinum,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    """`workbench run --layer platinum` is what the on-demand workflow and `argo submit -p
    layer=platinum` run: after its build it embeds what has no vector yet (here 5 products
    whose vectors were deleted), and `--no-embed` leaves them missing."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    with connect(platinum.env) as conn:
        conn.execute(
            "delete from platinum_vectors.product_vectors where model_id = %s and text_hash in "
            "(select text_hash from platinum_vectors.product_vectors where model_id = %s "
            "order by text_hash limit 5)",
            (WORDLLAMA, WORDLLAMA),
        )

    def missing() -> int:
        return int(
            platinum.scalar(
                "select count(distinct p.text_hash) from platinum.platinum_product_embeddings p "
                "where not exists (select 1 from platinum_vectors.product_vectors v "
                "where v.model_id = %s and v.text_hash = p.text_hash)",
                (WORDLLAMA,),
            )
        )

    assert missing() == 5
    code, events, _ = _workbench(capsys, "run", "--layer", "platinum", "--no-embed")
    assert code == 0
    assert not [e for e in events if e["event"].startswith("embed.")]
    assert missing() == 5

    code, events, _ = _workbench(capsys, "run", "--layer", "platinum")
    assert code == 0, events[-3:]
    [done] = [e for e in events if e["event"] == "embed.done"]
    assert done["model_id"] == WORDLLAMA
    assert done["embedded_by_kind"] == {"products": 5, "transactions": 0}
    assert missing() == 0


def test_another_model_keeps_its_own_dimensions_beside_the_first(
    platinum: Platinum, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hashing provider at 64 dimensions is a new model: all its texts are embedded, the
    256-dimension wordllama vectors stay untouched and searchable, and the hashing baseline —
    lexical, not semantic — does not find the cigarettes (no product name says 'cigarettes')."""
    before = _top_categories(capsys, "instant noodles")
    monkeypatch.setenv("WORKBENCH_EMBED_PROVIDER", "hashing")
    monkeypatch.setenv("WORKBENCH_EMBED_DIMENSIONS", "64")
    code, done = _embed(capsys)
    assert code == 0
    assert done["model_id"] == "hashing:words-64" and done["dimensions"] == 64
    assert done["embedded"] == sum(done["vectors_by_kind"].values()) > 0
    assert dict(
        platinum.rows(
            "select model_id, min(vector_dims(embedding)) || '-' || max(vector_dims(embedding)) "
            "from platinum_vectors.product_vectors group by model_id"
        )
    ) == {WORDLLAMA: "256-256", "hashing:words-64": "64-64"}
    assert _top_categories(capsys, "cigarettes").count("Tobacco") < 4
    monkeypatch.delenv("WORKBENCH_EMBED_PROVIDER")
    monkeypatch.delenv("WORKBENCH_EMBED_DIMENSIONS")
    assert _top_categories(capsys, "instant noodles") == before


def test_a_model_id_seen_with_other_dimensions_is_a_configuration_error(
    platinum: Platinum, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(platinum.env) as conn:
        conn.execute(
            "insert into platinum_vectors.embedding_models (model_id, provider, dimensions) "
            "values ('hashing:words-32', 'hashing', 48)"
        )
    monkeypatch.setenv("WORKBENCH_EMBED_PROVIDER", "hashing")
    monkeypatch.setenv("WORKBENCH_EMBED_DIMENSIONS", "32")
    code, failed = _embed(capsys)
    assert code == ExitCode.CONFIGURATION_ERROR
    assert "48-dimension" in failed["error"]
    assert (
        platinum.scalar(
            "select count(*) from platinum_vectors.product_vectors "
            "where model_id = 'hashing:words-32'"
        )
        == 0
    )


def test_an_unreachable_endpoint_is_transient(
    platinum: Platinum, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_EMBED_PROVIDER", "openai")
    url = f"http://127.0.0.1:{free_port()}/v1"  # a port nobody listens on
    monkeypatch.setenv("WORKBENCH_EMBED_URL", url)
    monkeypatch.setenv("WORKBENCH_EMBED_MODEL", "text-embedding-3-small")
    code, failed = _embed(capsys)
    assert code == ExitCode.RUNTIME_ERROR
    assert f"cannot reach {url}/embeddings" in failed["error"]


def test_embed_waits_for_the_platinum_lock_and_gives_up_as_transient(
    platinum: Platinum, capsys: pytest.CaptureFixture[str]
) -> None:
    with connect(platinum.env) as holder:
        holder.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key("platinum"))
        code, failed = _embed(capsys, "--lock-timeout", "1")
    assert code == ExitCode.RUNTIME_ERROR
    assert failed["event"] == "embed.lock_timeout"


def test_a_server_without_pgvector_is_refused_with_exit_3(
    pg_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's cluster (Debian's PostgreSQL 15 here) has no pgvector."""
    with connect(pg_env) as conn:
        if conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone():
            pytest.fail(
                "the session cluster unexpectedly has pgvector; this test needs one without"
            )
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    code, failed = _embed(capsys)
    assert code == ExitCode.CONFIGURATION_ERROR
    assert "no pgvector extension" in failed["error"]
