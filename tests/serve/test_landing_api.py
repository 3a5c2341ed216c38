"""POST records over real HTTP to a real `workbench serve`, and read them back from PostgreSQL.

Every answer the service gives (202, 400, 401, 409, 413, 415, 422) is produced here by a
real request; the rows each one leaves (or does not leave) in raw are read back.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from tests import dbt_support
from tests.pgcluster import PostgresCluster, temporary_database
from tests.serve.server import TOKEN, Served, query, server_env, serving

pytestmark = pytest.mark.integration

NDJSON = {"Content-Type": "application/x-ndjson"}
JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}
MAX_BODY = 64 * 1024
KEY_WAIT_SECONDS = 2.0


@pytest.fixture(scope="module")
def pg_module(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    with temporary_database(pg_cluster, "serve") as env:
        yield env


@pytest.fixture(scope="module")
def served(pg_module: dict[str, str]) -> Iterator[Served]:
    env = server_env(
        pg_module,
        WORKBENCH_SERVE_MAX_BODY_BYTES=str(MAX_BODY),
        WORKBENCH_SERVE_IDEMPOTENCY_RETENTION_SECONDS="2",
        WORKBENCH_SERVE_IDEMPOTENCY_WAIT_SECONDS=str(KEY_WAIT_SECONDS),
    )
    with serving(env, "--no-bronze-follow") as server:
        yield server


def landed(pg_env: dict[str, str], request_id: str) -> list[tuple[object, ...]]:
    return query(
        pg_env,
        "select source_row, payload, source, source_file, batch_id from raw.transactions"
        " where batch_id = %s order by source_row",
        request_id,
    )


def rejected(pg_env: dict[str, str], request_id: str) -> list[tuple[object, ...]]:
    return query(
        pg_env,
        "select entity, source, source_row, raw_text, reason from raw.ingest_errors"
        " where batch_id = %s order by source_row",
        request_id,
    )


def sale(number: int, **extra: object) -> dict[str, object]:
    return {"transaction_id": f"T{number:06d}", "amount": "12.10", "quantity": 1, **extra}


def test_ndjson_lands_each_line_as_a_file_record_would(
    served: Served, pg_module: dict[str, str]
) -> None:
    body = b'{"transaction_id": "N1", "amount": 12.10}\nnot json\n\n{"transaction_id": "N2"}\n'
    with served.client() as client:
        answer = client.post("/v1/transactions", content=body, headers=NDJSON)
    assert answer.status_code == 202
    reply = answer.json()
    request_id = reply["request_id"]
    assert answer.headers["x-request-id"] == request_id
    assert (reply["records"], reply["errors"]) == (2, 1)
    assert reply["rejected"][0]["row"] == 2
    assert landed(pg_module, request_id) == [
        (1, {"transaction_id": "N1", "amount": 12.10}, "api", f"api/{request_id}", request_id),
        (4, {"transaction_id": "N2"}, "api", f"api/{request_id}", request_id),
    ]
    [(entity, source, row, text, reason)] = rejected(pg_module, request_id)
    assert (entity, source, row, text) == ("transactions", "api", 2, "not json")
    assert reason.startswith("invalid JSON")


def test_a_json_object_an_array_and_csv_land_with_their_positions(
    served: Served, pg_module: dict[str, str]
) -> None:
    with served.client() as client:
        one = client.post("/v1/transactions", json=sale(1))
        many = client.post(
            "/v1/transactions",
            content=json.dumps([sale(2), 7, sale(3, amount="1e2")]).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        csv = client.post(
            "/v1/transactions",
            content=b"transaction_id,amount\nC1, 5.00 \nC2\nC3,7\n",
            headers=CSV,
        )
        product = client.post("/v1/products", json={"product_id": "P1", "unit_price": "9.5"})
    assert [a.status_code for a in (one, many, csv, product)] == [202] * 4
    assert [row[:2] for row in landed(pg_module, one.json()["request_id"])] == [(1, sale(1))]
    assert [row[:2] for row in landed(pg_module, many.json()["request_id"])] == [
        (1, sale(2)),
        (3, sale(3, amount="1e2")),
    ]
    assert [row[2:4] for row in rejected(pg_module, many.json()["request_id"])] == [(2, "7")]
    assert [row[:2] for row in landed(pg_module, csv.json()["request_id"])] == [
        (2, {"transaction_id": "C1", "amount": " 5.00 "}),  # values as sent: silver decides
        (4, {"transaction_id": "C3", "amount": "7"}),
    ]
    assert [row[2:] for row in rejected(pg_module, csv.json()["request_id"])] == [
        (3, "C2", "expected 2 fields, got 1")
    ]
    assert query(
        pg_module,
        "select payload, source from raw.products where batch_id = %s",
        product.json()["request_id"],
    ) == [({"product_id": "P1", "unit_price": "9.5"}, "api")]


def test_a_body_with_no_record_is_400_and_its_lines_are_kept(
    served: Served, pg_module: dict[str, str]
) -> None:
    with served.client() as client:
        garbage = client.post("/v1/transactions", content=b"[1, 2]\n", headers=NDJSON)
        empty = client.post("/v1/transactions", content=b"\n\n", headers=NDJSON)
        bad_header = client.post("/v1/transactions", content=b"a,a\n1,2\n", headers=CSV)
    assert garbage.status_code == 400
    assert garbage.json()["rejected"] == [{"row": 1, "reason": "JSON array, not an object"}]
    assert rejected(pg_module, garbage.json()["request_id"]) == [
        ("transactions", "api", 1, "[1, 2]", "JSON array, not an object")
    ]
    assert empty.status_code == 400
    assert empty.json() == {"error": "empty body: no record"}
    assert bad_header.status_code == 400
    [(_, _, _, text, reason)] = rejected(pg_module, bad_header.json()["request_id"])
    assert (text, reason) == ("a,a\n1,2\n", "CSV header repeats column names: a")


def test_requests_without_the_token_are_401_and_land_nothing(
    served: Served, pg_module: dict[str, str]
) -> None:
    before = query(pg_module, "select count(*) from raw.transactions")
    attempts = {
        "none": {},
        "wrong": {"Authorization": "Bearer not-the-token"},
        "prefix": {"Authorization": f"Bearer {TOKEN[:-1]}"},
        "scheme": {"Authorization": f"Basic {TOKEN}"},
    }
    for headers in attempts.values():
        answer = httpx.post(f"{served.url}/v1/transactions", json=sale(9), headers=headers)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
    assert query(pg_module, "select count(*) from raw.transactions") == before


def test_other_content_types_are_415_and_big_bodies_413(served: Served) -> None:
    with served.client() as client:
        plain = client.post(
            "/v1/transactions", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        latin = client.post(
            "/v1/transactions",
            content=b"{}",
            headers={"Content-Type": "application/json; charset=latin-1"},
        )
        line = json.dumps(sale(1)).encode() + b"\n"
        big = client.post(
            "/v1/transactions", content=line * (MAX_BODY // len(line) + 1), headers=NDJSON
        )

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as it streams
            for _ in range(MAX_BODY // len(line) + 1):
                yield line

        streamed = client.post("/v1/transactions", content=chunks(), headers=NDJSON)
        unknown = client.post("/v1/customers", json={})
    assert (plain.status_code, latin.status_code) == (415, 415)
    assert "application/x-ndjson" in plain.json()["error"]
    assert (big.status_code, streamed.status_code) == (413, 413)
    assert unknown.status_code == 404


def test_the_same_key_returns_the_first_answer_and_lands_nothing_more(
    served: Served, pg_module: dict[str, str]
) -> None:
    body = (json.dumps(sale(100)) + "\n" + json.dumps(sale(101)) + "\n").encode()
    headers = {**NDJSON, "Idempotency-Key": "order-100"}
    with served.client() as client:
        first = client.post("/v1/transactions", content=body, headers=headers)
        again = client.post("/v1/transactions", content=body, headers=headers)
        other_body = client.post("/v1/transactions", content=body + body, headers=headers)
        same_key_products = client.post("/v1/products", content=body, headers=headers)
        bad_key = client.post(
            "/v1/transactions", content=body, headers={**NDJSON, "Idempotency-Key": "k" * 256}
        )
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 422
    assert same_key_products.status_code == 202  # keys are per entity
    assert bad_key.status_code == 400
    ids = query(
        pg_module,
        "select payload->>'transaction_id', batch_id from raw.transactions"
        " where payload->>'transaction_id' in ('T000100', 'T000101') order by 1",
    )
    request_id = first.json()["request_id"]
    assert ids == [("T000100", request_id), ("T000101", request_id)]


def test_concurrent_requests_with_one_key_land_once(
    served: Served, pg_module: dict[str, str]
) -> None:
    body = json.dumps([sale(200 + n) for n in range(50)]).encode()
    headers = {**JSON, "Idempotency-Key": "burst-1"}

    async def burst() -> list[httpx.Response]:
        async with served.async_client() as client:
            return list(
                await asyncio.gather(
                    *(
                        client.post("/v1/transactions", content=body, headers=headers)
                        for _ in range(8)
                    )
                )
            )

    answers = asyncio.run(burst())
    assert [a.status_code for a in answers] == [202] * 8
    assert len({a.json()["request_id"] for a in answers}) == 1
    assert query(
        pg_module,
        "select count(*), count(distinct batch_id) from raw.transactions"
        " where payload->>'transaction_id' between 'T000200' and 'T000249'",
    ) == [(50, 1)]


def _hold_key(pg_env: dict[str, str], key: str) -> psycopg.Connection[tuple[object, ...]]:
    """A first request with `key` caught in flight: its claim inserted, not yet committed."""
    conn = psycopg.connect(
        " ".join(
            f"{k}={pg_env[f'POSTGRES_{k.upper()}']}" for k in ("host", "port", "user", "password")
        )
        + f" dbname={pg_env['POSTGRES_DB']}"
    )
    conn.execute(
        "insert into raw.ingest_requests"
        " (entity, idempotency_key, request_id, body_sha256, status_code, response)"
        " values ('transactions', %s, 'first', 'sha', 202, '{\"request_id\": \"first\"}')",
        (key,),
    )
    return conn


def test_a_key_in_flight_is_waited_for_then_409_with_retry_after(
    served: Served, pg_module: dict[str, str]
) -> None:
    """The second request waits for the first; if the first does not finish within the wait
    it gets 409 + Retry-After; if the first rolls back, the second lands itself."""
    with served.client() as client:
        client.post("/v1/transactions", json=sale(300))  # the ledger table exists
        holder = _hold_key(pg_module, "slow-1")
        started = time.monotonic()
        conflict = client.post(
            "/v1/transactions", json=sale(301), headers={"Idempotency-Key": "slow-1"}
        )
        waited = time.monotonic() - started
        assert conflict.status_code == 409
        assert int(conflict.headers["retry-after"]) > 0
        assert waited >= KEY_WAIT_SECONDS

        results: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: results.append(
                client.post(
                    "/v1/transactions", json=sale(302), headers={"Idempotency-Key": "slow-1"}
                )
            )
        )
        thread.start()
        time.sleep(0.5)
        holder.rollback()  # the first request failed: nothing of it remains
        holder.close()
        thread.join(timeout=30)
    assert results[0].status_code == 202
    assert results[0].json()["request_id"] != "first"
    assert landed(pg_module, results[0].json()["request_id"])[0][1] == sale(302)


def test_a_key_is_forgotten_after_the_retention_period(
    served: Served, pg_module: dict[str, str]
) -> None:
    headers = {"Idempotency-Key": "short-lived"}
    with served.client() as client:
        first = client.post("/v1/transactions", json=sale(400), headers=headers)
        time.sleep(2.5)  # the module's server keeps keys 2 s
        later = client.post("/v1/transactions", json=sale(400), headers=headers)
    assert first.json()["request_id"] != later.json()["request_id"]
    assert query(
        pg_module,
        "select count(*) from raw.transactions where payload->>'transaction_id' = 'T000400'",
    ) == [(2,)]  # without a remembered key a record lands again, as another version


def test_probes_metrics_and_json_logs(served: Served, pg_module: dict[str, str]) -> None:
    with served.client() as client:
        client.post("/v1/transactions", content=b'{"transaction_id": "M1"}\nnope\n', headers=NDJSON)
        client.post("/v1/transactions", content=b"{}", headers={"Content-Type": "text/plain"})
        httpx.post(f"{served.url}/v1/transactions", json=sale(1))  # no token
        health = client.get("/healthz")
        ready = client.get("/readyz")
        metrics = client.get("/metrics").text
    assert (health.status_code, ready.status_code) == (200, 200)
    assert ready.json()["database"] == "reachable"
    values = {}
    for line in metrics.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    landed_total = query(pg_module, "select count(*) from raw.transactions where source = 'api'")
    assert (
        values['dbt_workbench_serve_records_landed_total{entity="transactions"}']
        == landed_total[0][0]
    )
    assert values['dbt_workbench_serve_requests_total{route="/v1/transactions",status="401"}'] >= 1
    assert values['dbt_workbench_serve_requests_total{route="/v1/transactions",status="202"}'] >= 1
    assert (
        values['dbt_workbench_serve_request_duration_seconds_count{route="/v1/transactions"}'] >= 1
    )
    errors_total = query(
        pg_module,
        "select count(*) from raw.ingest_errors where source = 'api' and entity = 'transactions'",
    )
    assert (
        values['dbt_workbench_serve_ingest_errors_total{entity="transactions"}']
        == errors_total[0][0]
    )
    events = served.events()  # every line parses as JSON
    landings = [e for e in events if e["event"] == "serve.landing"]
    assert {e["status"] for e in landings} >= {202, 401, 415}
    assert all(len(e["request_id"]) == 32 for e in landings)
    assert TOKEN not in "\n".join(json.dumps(e) for e in events)


def _ddl(pg_env: dict[str, str], statement: str) -> None:
    with dbt_support.connect(pg_env) as conn:
        conn.execute(statement.encode())


def test_a_landing_postgres_refuses_is_500_and_leaves_nothing(
    served: Served, pg_module: dict[str, str]
) -> None:
    """The whole request is one transaction: when PostgreSQL refuses a record (here a check
    constraint a DBA added), neither its records nor its rejected lines stay."""
    refuse = (
        "alter table raw.transactions add constraint refuse_marked"
        " check (payload->>'transaction_id' <> 'REFUSED')"
    )
    with served.client() as client:  # the first landing creates the raw schema
        assert client.post("/v1/transactions", content=b"{}", headers=NDJSON).status_code == 202
    _ddl(pg_module, refuse)
    try:
        body = b'{"transaction_id": "FINE-1"}\nbroken\n{"transaction_id": "REFUSED"}\n'
        with served.client() as client:
            answer = client.post("/v1/transactions", content=body, headers=NDJSON)
    finally:
        _ddl(pg_module, "alter table raw.transactions drop constraint refuse_marked")
    assert answer.status_code == 500
    assert "refuse_marked" in answer.json()["error"]
    request_id = answer.headers["x-request-id"]
    assert landed(pg_module, request_id) == []
    assert rejected(pg_module, request_id) == []
    assert query(
        pg_module,
        "select count(*) from raw.transactions where payload->>'transaction_id' = 'FINE-1'",
    ) == [(0,)]
