"""PostgreSQL advisory locks per layer, so two runs of the same layer never overlap.

Argo's concurrencyPolicy and mutexes do not cover `argo submit --from cronwf`, laptops or
other clusters; the database is the one place every runner shares. Session-level locks are
held on a dedicated connection for the whole run and die with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

# Fixed acquisition order: a run that needs several layers can never deadlock another.
LOCK_ORDER = ("bronze", "silver", "gold", "platinum")
LAYER_LOCKS: dict[str, tuple[str, ...]] = {
    "bronze": ("bronze",),
    "silver": ("silver",),
    "gold": ("gold",),
    "platinum": ("platinum",),
    "all": LOCK_ORDER,
    "maintenance": ("silver", "gold", "platinum"),
}
# First key of the two-int advisory lock: this application's namespace (ASCII "dbtw").
LOCK_NAMESPACE = 0x64627477
POLL_SECONDS = 0.5


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
    poll_seconds: float = POLL_SECONDS,
) -> Iterator[float]:
    """Hold every lock the layer needs; yields the seconds spent waiting for them.

    `conn` must be in autocommit mode. `on_wait(layer)` is called once per lock that is busy.
    """
    started = time.monotonic()
    deadline = started + timeout_seconds
    held: list[str] = []
    try:
        for name in locks_for(layer, custom_selection=custom_selection):
            announced = False
            while not _try_lock(conn, name):
                if not announced:
                    on_wait(name)
                    announced = True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise LockTimeoutError(
                        f"layer lock {name!r} is held by another run; gave up after "
                        f"{timeout_seconds:g}s (raise --lock-timeout or "
                        f"WORKBENCH_LOCK_TIMEOUT_SECONDS, or find the other run in "
                        f"pg_locks where locktype = 'advisory' and classid = {LOCK_NAMESPACE})"
                    )
                time.sleep(min(poll_seconds, remaining))
            held.append(name)
        yield time.monotonic() - started
    finally:
        if not conn.closed:
            for name in reversed(held):
                try:
                    _unlock(conn, name)
                except psycopg.Error:
                    break  # the connection is gone, and the session's locks with it
