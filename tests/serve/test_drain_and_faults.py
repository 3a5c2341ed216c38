"""What is acknowledged is never lost: SIGTERM drains in-flight requests, and PostgreSQL
killed in the middle of a load costs only 503s (retried safely with their Idempotency-Key)."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.pgcluster import PostgresCluster, temporary_cluster, temporary_database
from tests.serve.server import query, server_env, serving

pytestmark = pytest.mark.integration

NDJSON = {"Content-Type": "application/x-ndjson"}
# Longer than the service waits for a pooled connection (5 s), so requests see the outage.
OUTAGE_SECONDS = 6.0


def _conninfo(pg_env: dict[str, str]) -> str:
    keys = ("host", "port", "user", "password")
    return " ".join(f"{k}={pg_env[f'POSTGRES_{k.upper()}']}" for k in keys) + (
        f" dbname={pg_env['POSTGRES_DB']}"
    )


def _waiting_copies(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute(
        "select count(*) from pg_stat_activity"
        " where wait_event_type = 'Lock' and query ilike 'copy raw.%%transactions%%'"
    ).fetchone()
    return int(row[0]) if row else 0


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(pg_env: dict[str, str]) -> None:
    with serving(server_env(pg_env), "--no-bronze-follow") as served, served.client() as client:
        assert client.post("/v1/transactions", json={"transaction_id": "warm"}).status_code == 202
        with psycopg.connect(_conninfo(pg_env)) as holder:
            # Writers queue behind this lock: the next landing is caught mid-COPY.
            holder.execute("lock table raw.transactions in share mode")
            answers: list[httpx.Response] = []
            thread = threading.Thread(
                target=lambda: answers.append(
                    client.post("/v1/transactions", json={"transaction_id": "in-flight"})
                )
            )
            thread.start()
            with psycopg.connect(_conninfo(pg_env), autocommit=True) as watcher:
                deadline = time.monotonic() + 10
                while _waiting_copies(watcher) == 0 and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert _waiting_copies(watcher) == 1
            served.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert served.process.poll() is None, "exited with a request in flight"
            with pytest.raises(httpx.TransportError):  # no new connection is accepted
                httpx.post(f"{served.url}/v1/transactions", json={}, timeout=2)
            holder.commit()  # the lock goes; the request in flight commits
        thread.join(timeout=30)
        assert served.process.wait(timeout=30) == 0
        events = [e["event"] for e in served.events()]
    assert events.index("serve.landing", events.index("Shutting down")) < events.index(
        "serve.stopped"
    )
    assert answers[0].status_code == 202
    request_id = answers[0].json()["request_id"]
    assert query(
        pg_env, "select payload from raw.transactions where batch_id = %s", request_id
    ) == [({"transaction_id": "in-flight"},)]


@pytest.fixture()
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own: it is killed and restarted under load."""
    with temporary_cluster("workbench-serve-fault-") as cluster:
        yield cluster


@dataclass
class Tally:
    acknowledged: dict[str, list[str]] = field(default_factory=dict)  # key -> record ids
    unanswered: dict[str, bytes] = field(default_factory=dict)  # key -> body to retry
    statuses: list[int] = field(default_factory=list)


async def _client_load(
    url: str, headers: dict[str, str], worker: int, stop: asyncio.Event, tally: Tally
) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        sequence = 0
        while not stop.is_set():
            sequence += 1
            key = f"w{worker}-{sequence}"
            ids = [f"{key}-{n}" for n in range(20)]
            body = "".join(json.dumps({"transaction_id": i}) + "\n" for i in ids).encode()
            try:
                answer = await client.post(
                    "/v1/transactions", content=body, headers={**NDJSON, "Idempotency-Key": key}
                )
            except httpx.TransportError:
                tally.unanswered[key] = body
                continue
            tally.statuses.append(answer.status_code)
            if answer.status_code == 202:
                tally.acknowledged[key] = ids
            else:
                tally.unanswered[key] = body
                await asyncio.sleep(0.2)


def test_postgres_killed_under_load_loses_no_acknowledged_record(
    own_cluster: PostgresCluster,
) -> None:
    with (
        temporary_database(own_cluster, "fault") as pg_env,
        serving(server_env(pg_env), "--no-bronze-follow") as served,
    ):
        tally = Tally()

        async def scenario() -> None:
            stop = asyncio.Event()
            workers = [
                asyncio.create_task(_client_load(served.url, served.headers, n, stop, tally))
                for n in range(4)
            ]
            await asyncio.sleep(2.0)
            await asyncio.to_thread(own_cluster.stop, "immediate")
            await asyncio.sleep(OUTAGE_SECONDS)
            await asyncio.to_thread(own_cluster.start)
            await asyncio.sleep(3.0)
            stop.set()
            await asyncio.gather(*workers)

        asyncio.run(scenario())
        assert set(tally.statuses) <= {202, 503}
        assert 503 in tally.statuses, "the outage was never noticed"
        acknowledged_before_retry = {i for ids in tally.acknowledged.values() for i in ids}
        landed = {
            row[0]
            for row in query(pg_env, "select payload->>'transaction_id' from raw.transactions")
        }
        assert acknowledged_before_retry <= landed  # every 202 survived the crash
        assert served.events()  # its log stays JSON through the outage

        # The client retries what was not acknowledged with the same key: each record then
        # lands exactly once, including those whose commit made it but whose answer did not.
        with served.client() as client:
            for key, body in tally.unanswered.items():
                retry = client.post(
                    "/v1/transactions", content=body, headers={**NDJSON, "Idempotency-Key": key}
                )
                assert retry.status_code == 202
        counts = query(
            pg_env,
            "select payload->>'transaction_id', count(*) from raw.transactions group by 1",
        )
        sent = len(tally.acknowledged) + len(tally.unanswered)
        assert len(counts) == 20 * sent
        assert {count for _, count in counts} == {1}
        assert 202 in tally.statuses[-5:], "the service did not recover after the restart"
