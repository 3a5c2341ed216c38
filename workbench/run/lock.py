"""PostgreSQL advisory locks per layer, so two runs that touch a layer never overlap.

Argo's concurrencyPolicy and mutexes do not cover `argo submit --from cronwf`, laptops or
other clusters; the database is the one place every runner shares. Session-level locks are
held on a dedicated connection for the whole run and die with it.

A busy lock is waited for inside PostgreSQL (`pg_advisory_lock` under `lock_timeout`): the
server queues waiters in arrival order and grants the lock to the first one the moment it is
released, so no waiter is overtaken; the timeout is enforced by the server as well.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors

# Which layers each run holds, in the fixed acquisition order (so a run that needs several
# layers can never deadlock another); the Argo mutexes are rendered from the same table.
from workbench.contract import LAYER_LOCKS, LOCK_ORDER

# First key of the two-int advisory lock: this application's namespace (ASCII "dbtw").
LOCK_NAMESPACE = 0x64627477


def locks_for(layer: str, *, custom_selection: bool) -> tuple[str, ...]:
    """The layer locks a run must hold.

    A `--select`/`--exclude` replaces the layer's selector and may reach any layer (e.g.
    `silver_products+` builds gold and platinum too), so such a run holds every layer's lock.
    """
    return LOCK_ORDER if custom_selection else LAYER_LOCKS[layer]


class LockTimeoutError(RuntimeError):
    """Another run held a layer lock for longer than the lock timeout."""


def lock_key(layer: str) -> tuple[int, int]:
    return LOCK_NAMESPACE, LOCK_ORDER.index(layer) + 1


def _try_lock(conn: psycopg.Connection[tuple[object, ...]], layer: str) -> bool:
    row = conn.execute(
        "select pg_try_advisory_lock(%s::int4, %s::int4)", lock_key(layer)
    ).fetchone()
    return bool(row and row[0])


def _wait_for_lock(
    conn: psycopg.Connection[tuple[object, ...]], layer: str, timeout_seconds: float
) -> bool:
    """Queue for the lock inside PostgreSQL; False when `timeout_seconds` ran out first."""
    milliseconds = max(1, int(timeout_seconds * 1000))
    try:
        conn.execute(f"set lock_timeout = {milliseconds}")  # an int: nothing to inject
        conn.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key(layer))
    except errors.LockNotAvailable:
        return False
    finally:
        if not conn.closed and not conn.broken:
            conn.execute("reset lock_timeout")
    return True


def _unlock(conn: psycopg.Connection[tuple[object, ...]], layer: str) -> None:
    conn.execute("select pg_advisory_unlock(%s::int4, %s::int4)", lock_key(layer))


@contextmanager
def layer_locks(
    conn: psycopg.Connection[tuple[object, ...]],
    layer: str,
    timeout_seconds: float,
    *,
    custom_selection: bool = False,
    on_wait: Callable[[str], None] = lambda _layer: None,
) -> Iterator[float]:
    """Hold every lock the layer needs, in LOCK_ORDER; yields the seconds spent waiting.

    `conn` must be in autocommit mode. `on_wait(layer)` is called once per lock that is busy;
    `timeout_seconds` bounds the whole wait, over all the locks.
    """
    started = time.monotonic()
    deadline = started + timeout_seconds
    held: list[str] = []
    try:
        for name in locks_for(layer, custom_selection=custom_selection):
            if not _try_lock(conn, name):
                on_wait(name)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not _wait_for_lock(conn, name, remaining):
                    raise LockTimeoutError(
                        f"layer lock {name!r} is held by another run; gave up after "
                        f"{timeout_seconds:g}s (raise --lock-timeout or "
                        f"WORKBENCH_LOCK_TIMEOUT_SECONDS, or find the other run in "
                        f"pg_locks where locktype = 'advisory' and classid = {LOCK_NAMESPACE})"
                    )
            held.append(name)
        yield time.monotonic() - started
    finally:
        if not conn.closed:
            for name in reversed(held):
                try:
                    _unlock(conn, name)
                except psycopg.Error:
                    break  # the connection is gone, and the session's locks with it
