"""Waiting for a layer lock is a queue inside PostgreSQL: first come, first served, with a
server-side timeout, and several locks are always taken in one global order."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import psycopg
import pytest

from tests.runtime.pg_watch import conninfo, wait_until
from workbench.contract import LOCK_ORDER
from workbench.run.lock import LOCK_NAMESPACE, LockTimeoutError, layer_locks

pytestmark = pytest.mark.integration

Conn = psycopg.Connection[tuple[object, ...]]


def _connect(pg_env: dict[str, str], name: str) -> Conn:
    conn = psycopg.connect(conninfo(pg_env), autocommit=True)
    conn.execute(f"set application_name = '{name}'")
    return conn


def _lock_waiters(watcher: Conn) -> list[str]:
    """Sessions that PostgreSQL itself has queued on one of our advisory locks."""
    rows = watcher.execute(
        "select a.application_name from pg_locks l join pg_stat_activity a using (pid)"
        " where l.locktype = 'advisory' and l.classid = %s and not l.granted"
        " and a.wait_event_type = 'Lock' order by a.application_name",
        (LOCK_NAMESPACE,),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _run_in_thread(conn: Conn, layer: str, order: list[str], name: str) -> threading.Thread:
    def hold_briefly() -> None:
        with layer_locks(conn, layer, 60):
            order.append(name)
            time.sleep(0.2)

    thread = threading.Thread(target=hold_briefly, daemon=True)
    thread.start()
    return thread


@pytest.fixture()
def connections(module_pg_env: dict[str, str]) -> Iterator[dict[str, Conn]]:
    with ExitStack() as stack:
        names = ("holder", "first", "second", "third", "watcher")
        yield {n: stack.enter_context(_connect(module_pg_env, f"wb-{n}")) for n in names}


def test_waiters_queue_in_the_server_and_are_served_in_arrival_order(
    connections: dict[str, Conn],
) -> None:
    """Polling pg_try_advisory_lock lets a late waiter win whenever it happens to poll first;
    a queued pg_advisory_lock is granted in arrival order (PostgreSQL's lock queue)."""
    watcher, order = connections["watcher"], []
    threads = []
    with layer_locks(connections["holder"], "silver", 5):
        for name in ("first", "second", "third"):
            threads.append(_run_in_thread(connections[name], "silver", order, name))
            wait_until(
                lambda name=name: f"wb-{name}" in _lock_waiters(watcher),  # type: ignore[misc]
                f"{name} queued in PostgreSQL",
            )
        assert _lock_waiters(watcher) == ["wb-first", "wb-second", "wb-third"]
    for thread in threads:
        thread.join(timeout=30)
    assert order == ["first", "second", "third"]


def test_the_timeout_is_the_servers_and_raises_lock_timeout(
    connections: dict[str, Conn],
) -> None:
    waiter = connections["first"]
    with layer_locks(connections["holder"], "gold", 5):
        started = time.monotonic()
        with (
            pytest.raises(LockTimeoutError, match="'gold' is held by another run"),
            layer_locks(waiter, "gold", 1.5),
        ):
            pass
        waited = time.monotonic() - started
    assert 1.4 < waited < 5
    # The session is usable and holds nothing: lock_timeout is back to its default.
    assert waiter.execute("show lock_timeout").fetchone() == ("0",)
    with layer_locks(waiter, "gold", 1):
        pass


def test_several_locks_are_taken_in_one_order_so_runs_never_deadlock(
    connections: dict[str, Conn],
) -> None:
    """`all` and `maintenance` both need silver and gold; each takes them in LOCK_ORDER, so a
    run holding one never waits for a run that holds the other."""
    watcher, order = connections["watcher"], []
    with layer_locks(connections["holder"], "gold", 5):
        everything = _run_in_thread(connections["first"], "all", order, "all")
        # `all` got bronze and silver, then queued on gold: silver is held while it waits.
        wait_until(lambda: "wb-first" in _lock_waiters(watcher), "all queued on gold")
        maintenance = _run_in_thread(connections["second"], "maintenance", order, "maintenance")
        wait_until(lambda: "wb-second" in _lock_waiters(watcher), "maintenance queued")
    everything.join(timeout=30)
    maintenance.join(timeout=30)
    assert order == ["all", "maintenance"]
    assert LOCK_ORDER == ("bronze", "silver", "gold", "platinum")
