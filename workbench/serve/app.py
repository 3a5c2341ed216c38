"""The Starlette application: landing routes, probes and metrics over one async connection pool.

Every landing request goes: token (401) -> Content-Type (415) -> size (413) -> Idempotency-Key
(400 if malformed) -> parse off the event loop -> one transaction (COPY, errors, key ledger)
-> commit -> 202 / 400. A database that cannot be reached answers 503 with Retry-After and
acknowledges nothing. docs/ingest-api.md is the reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from workbench.config import PostgresSettings
from workbench.contract import (
    ENTITIES,
    SERVE_HEALTH_PATH,
    SERVE_METRICS_PATH,
    SERVE_READY_PATH,
    serve_entity_path,
)
from workbench.db import connect
from workbench.ingest.schema import ensure_raw_schema
from workbench.serve import idempotency, landing
from workbench.serve.bodies import ParsedBody, UnsupportedMediaType, body_format, parse_body
from workbench.serve.follower import BronzeFollower
from workbench.serve.metrics import ServeMetrics
from workbench.serve.options import ServeOptions

log = structlog.get_logger("workbench.serve")

_PURGE_INTERVAL_SECONDS = 600.0
_READY_TIMEOUT_SECONDS = 2.0


class TooLarge(Exception):
    pass


class Service:
    """What the routes share: settings, the pool, the metrics and the bronze follower."""

    def __init__(self, settings: PostgresSettings, options: ServeOptions) -> None:
        self.settings = settings
        self.options = options
        self.metrics = ServeMetrics()
        self.pool = AsyncConnectionPool(
            settings.conninfo(),
            min_size=1,
            max_size=options.pool_size,
            open=False,
            timeout=options.pool_timeout_seconds,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": max(1, int(options.pool_timeout_seconds))},
            name="workbench-serve",
        )
        self.follower: BronzeFollower | None = None
        if options.follow_bronze:
            self.follower = BronzeFollower(
                self.metrics,
                debounce=options.debounce_seconds,
                retry=options.follow_retry_seconds,
            )
        self._schema_ready = False
        self._schema_lock = asyncio.Lock()

    async def ensure_schema(self) -> None:
        """raw's tables and the key ledger, once per process (on the first landing)."""
        if self._schema_ready:
            return
        async with self._schema_lock:
            if not self._schema_ready:
                await run_in_threadpool(_create_tables, self.settings)
                self._schema_ready = True

    # --- routes -------------------------------------------------------------------------

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, _request: Request) -> Response:
        try:
            async with self.pool.connection(timeout=_READY_TIMEOUT_SECONDS) as conn:
                await conn.execute("select 1")
        except (PoolTimeout, psycopg.Error) as error:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable", "error": _short(error)},
                status_code=503,
            )
        return JSONResponse({"status": "ready", "database": "reachable"})

    async def metrics_page(self, _request: Request) -> Response:
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def post_records(self, request: Request, entity: str) -> Response:
        request_id = uuid.uuid4().hex
        answer = await self._answer(request, entity, request_id)
        headers = {"X-Request-Id": request_id, **answer.headers}
        if answer.status_code in (202, 400) and not answer.replayed:
            self.metrics.records.labels(entity).inc(answer.landed)
            self.metrics.errors.labels(entity).inc(answer.errors)
            if answer.landed and self.follower is not None:
                self.follower.landed()
        log.info(
            "serve.landing",
            entity=entity,
            request_id=request_id,
            status=answer.status_code,
            records=answer.landed,
            errors=answer.errors,
            replayed=answer.replayed,
            idempotency_key=request.headers.get("idempotency-key"),
        )
        return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)

    async def _answer(self, request: Request, entity: str, request_id: str) -> landing.Answer:
        if not self._authorized(request):
            return _refusal(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})
        try:
            fmt = body_format(request.headers.get("content-type"))
        except UnsupportedMediaType as error:
            return _refusal(415, str(error))
        try:
            body = await self._read_body(request)
        except ClientDisconnect:
            return _refusal(400, "the client went away before the body was complete")
        except TooLarge:
            limit = self.options.max_body_bytes
            return _refusal(413, f"body larger than {limit} bytes; split it into several requests")
        key = request.headers.get("idempotency-key")
        if key is not None and not idempotency.valid_key(key):
            reason = f"Idempotency-Key must be 1-{idempotency.MAX_KEY_LENGTH} printable ASCII"
            return _refusal(400, reason)
        parsed, digest = await run_in_threadpool(_parse, fmt, body)
        if not parsed.records and not parsed.errors:
            return _refusal(400, "empty body: no record")
        target = landing.Request(entity, request_id, digest, key)
        retry = {"Retry-After": str(self.options.retry_after_seconds)}
        try:
            await self.ensure_schema()
            async with self.pool.connection() as conn:
                return await landing.land(
                    conn,
                    target,
                    parsed,
                    retention_seconds=self.options.retention_seconds,
                    key_wait_seconds=self.options.key_wait_seconds,
                )
        except idempotency.KeyInFlight:
            reason = "a request with this Idempotency-Key is still in flight; retry later"
            return _refusal(409, reason, retry)
        except (PoolTimeout, psycopg.OperationalError) as error:
            log.warning("serve.database_unreachable", request_id=request_id, error=_short(error))
            return _refusal(503, "database unreachable; nothing was landed, retry later", retry)
        except psycopg.Error as error:  # the transaction rolled back: nothing acknowledged
            log.error("serve.landing_failed", request_id=request_id, error=_short(error))
            return _refusal(500, f"landing failed, nothing was landed: {_short(error)}")

    def _authorized(self, request: Request) -> bool:
        token = self.options.token
        if token is None:
            return True
        scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            supplied = ""
        return hmac.compare_digest(supplied.strip().encode(), token.encode())

    async def _read_body(self, request: Request) -> bytes:
        limit = self.options.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    # --- lifecycle ----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        await self.pool.open(wait=False)
        purge = asyncio.get_running_loop().create_task(self._purge_expired_keys())
        if self.follower is not None:
            self.follower.start()
        log.info(
            "serve.started",
            database=self.settings.describe(),
            auth=self.options.token is not None,
            follow_bronze=self.follower is not None,
            max_body_bytes=self.options.max_body_bytes,
        )
        try:
            yield
        finally:
            purge.cancel()
            if self.follower is not None:
                await self.follower.stop(self.options.drain_seconds)
            await self.pool.close()
            log.info("serve.stopped")

    async def _purge_expired_keys(self) -> None:
        while True:
            await asyncio.sleep(_PURGE_INTERVAL_SECONDS)
            try:
                await self.ensure_schema()
                async with self.pool.connection() as conn:
                    forgotten = await idempotency.forget_expired(
                        conn, self.options.retention_seconds
                    )
                log.info("serve.idempotency_keys_expired", forgotten=forgotten)
            except (PoolTimeout, psycopg.Error) as error:
                log.warning("serve.idempotency_purge_failed", error=_short(error))


def create_app(settings: PostgresSettings, options: ServeOptions) -> Starlette:
    service = Service(settings, options)
    routes = [
        Route(
            serve_entity_path(entity),
            _timed(service, serve_entity_path(entity), _for_entity(service, entity)),
            methods=["POST"],
        )
        for entity in ENTITIES
    ]
    routes += [
        Route(SERVE_HEALTH_PATH, _timed(service, SERVE_HEALTH_PATH, service.healthz)),
        Route(SERVE_READY_PATH, _timed(service, SERVE_READY_PATH, service.readyz)),
        Route(SERVE_METRICS_PATH, service.metrics_page),
    ]
    app = Starlette(routes=routes, lifespan=service.lifespan)
    app.state.service = service
    return app


Endpoint = Callable[[Request], Awaitable[Response]]


def _for_entity(service: Service, entity: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await service.post_records(request, entity)

    return endpoint


def _timed(service: Service, route: str, endpoint: Endpoint) -> Endpoint:
    async def timed(request: Request) -> Response:
        started = time.perf_counter()
        response = await endpoint(request)
        service.metrics.latency.labels(route).observe(time.perf_counter() - started)
        service.metrics.requests.labels(route, str(response.status_code)).inc()
        return response

    return timed


def _refusal(status: int, reason: str, headers: dict[str, str] | None = None) -> landing.Answer:
    return landing.Answer(status, {"error": reason}, headers=headers or {})


def _parse(fmt: str, body: bytes) -> tuple[ParsedBody, str]:
    return parse_body(fmt, body), hashlib.sha256(body).hexdigest()


def _create_tables(settings: PostgresSettings) -> None:
    with connect(settings, autocommit=True) as conn:
        ensure_raw_schema(conn)
        conn.execute(idempotency.LEDGER_DDL.encode())


def _short(error: BaseException) -> str:
    return " ".join(str(error).split())[:300] or type(error).__name__
