"""Google Drive as a source: `gdrive://<folder id>[/<glob>]` through the Drive v3 REST API.

Only `google-auth` (its AuthorizedSession, a requests.Session that signs every request with the
service account's token, fetched from the key file's own `token_uri`): the API client library
would add 114 MB of discovery documents to the image. What is called, as Google documents it
(https://developers.google.com/drive/api/reference/rest/v3/files):

- files.list  GET <base>/drive/v3/files?q='<folder>' in parents and trashed = false, paged by
  `nextPageToken`; sub-folders (mimeType application/vnd.google-apps.folder) are skipped;
- files.get   GET <base>/drive/v3/files/<id>?alt=media for CSV and JSON Lines files;
- files.export GET <base>/drive/v3/files/<id>/export?mimeType=text/csv for Google Sheets (the
  first sheet, as Drive exports it).

Errors (https://developers.google.com/drive/api/guides/handle-errors): 403 with reason
`rateLimitExceeded` / `userRateLimitExceeded`, 429 and 5xx are retried with truncated
exponential backoff (Retry-After honoured), at most DRIVE_MAX_ATTEMPTS times; 404 on a download
means the file went away after the listing; other 4xx are a person's to fix.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from workbench.config import ConfigError
from workbench.contract import (
    GDRIVE_API_URL_DEFAULT,
    GDRIVE_API_URL_ENV,
    GOOGLE_CREDENTIALS_ENV,
    ExitCode,
)
from workbench.ingest.globs import glob_regex
from workbench.ingest.sources import Source, SourceError, SourceGone, StreamingRaw, format_of
from workbench.retry import backoff_seconds, retry_after_seconds

SCHEME = "gdrive://"
SCOPES = ("https://www.googleapis.com/auth/drive.readonly",)
FOLDER_MIME = "application/vnd.google-apps.folder"
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
DRIVE_MAX_ATTEMPTS = 6
_BACKOFF_BASE_SECONDS = 1.0
_BACKOFF_MAX_SECONDS = 64.0
_TIMEOUT = (10.0, 120.0)  # connect, read
_RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_LIST_FIELDS = "nextPageToken, files(id, name, mimeType, md5Checksum, version, modifiedTime, size)"
_DRIVE_ID = re.compile(r"[A-Za-z0-9_-]+")


class DriveError(RuntimeError):
    """Drive could not be used; `exit_code` says whether a retry may help."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _NotFound(Exception):
    pass


class DriveClient:
    """The three Drive v3 calls ingest needs, each retried as Google asks clients to."""

    def __init__(
        self,
        session: Any,
        base_url: str,
        account: str,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._session = session
        self._files = f"{base_url.rstrip('/')}/drive/v3/files"
        self.account = account
        self._sleep = sleep or pause

    def list_folder(self, folder_id: str) -> Iterator[dict[str, Any]]:
        params = {
            "q": f"'{folder_id}' in parents and trashed = false",
            "fields": _LIST_FIELDS,
            "pageSize": "1000",
            "orderBy": "name",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        while True:
            try:
                page = self._get(self._files, params).json()
            except _NotFound as error:
                raise DriveError(
                    f"Drive folder {folder_id} not found: is it shared with {self.account}?",
                    ExitCode.CONFIGURATION_ERROR,
                ) from error
            yield from page.get("files", [])
            token = page.get("nextPageToken")
            if not token:
                return
            params["pageToken"] = token

    def open_media(self, file_id: str) -> io.RawIOBase:
        return self._open(f"{self._files}/{file_id}", {"alt": "media"}, file_id)

    def open_export(self, file_id: str, mime_type: str) -> io.RawIOBase:
        return self._open(f"{self._files}/{file_id}/export", {"mimeType": mime_type}, file_id)

    def _open(self, url: str, params: dict[str, str], file_id: str) -> io.RawIOBase:
        try:
            response = self._get(url, {**params, "supportsAllDrives": "true"}, stream=True)
        except _NotFound as error:
            raise SourceGone(f"Drive file {file_id} is gone (deleted or unshared)") from error
        response.raw.decode_content = True  # a gzip Content-Encoding is transport, not data
        return StreamingRaw(response.raw)

    def _get(self, url: str, params: Mapping[str, str], stream: bool = False) -> Any:
        import requests
        from google.auth import exceptions as auth_errors

        for attempt in range(DRIVE_MAX_ATTEMPTS):
            last = attempt == DRIVE_MAX_ATTEMPTS - 1
            try:
                response = self._session.get(url, params=params, stream=stream, timeout=_TIMEOUT)
            except auth_errors.RefreshError as error:
                # google-auth already retried a transient token-endpoint failure
                code = ExitCode.RUNTIME_ERROR if error.retryable else ExitCode.CONFIGURATION_ERROR
                message = f"Google token endpoint refused {self.account}: {error}"
                raise DriveError(message, code) from error
            except auth_errors.TransportError as error:
                message = f"Google token endpoint: {error}"
                raise DriveError(message, ExitCode.RUNTIME_ERROR) from error
            except requests.ConnectionError as error:
                if last:
                    message = f"Drive unreachable: {error}"
                    raise DriveError(message, ExitCode.RUNTIME_ERROR) from error
                self._sleep(_backoff(attempt, None))
                continue
            if response.status_code < 300:
                return response
            status, reason, message = _error_of(response)
            response.close()
            if status == 404:
                raise _NotFound(message)
            if not _retryable(status, reason):
                raise DriveError(
                    f"Drive answered {status} {reason or ''}: {message}".replace("  ", " "),
                    ExitCode.CONFIGURATION_ERROR,
                )
            if last:
                raise DriveError(
                    f"Drive answered {status} {reason or ''} {DRIVE_MAX_ATTEMPTS} times: {message}",
                    ExitCode.RUNTIME_ERROR,
                )
            self._sleep(_backoff(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")


def pause(seconds: float) -> None:
    """The wait between attempts (a module function, so a test can watch the waits)."""
    time.sleep(seconds)


def _error_of(response: Any) -> tuple[int, str | None, str]:
    """(status, first error reason, message) from Drive's JSON error body, when there is one."""
    try:
        error = response.json()["error"]
        reasons = [item.get("reason") for item in error.get("errors", [])]
        return response.status_code, next(filter(None, reasons), None), str(error.get("message"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.status_code, None, response.reason or ""


def _retryable(status: int, reason: str | None) -> bool:
    return status == 429 or status >= 500 or (status == 403 and reason in _RATE_LIMIT_REASONS)


def _backoff(attempt: int, retry_after: str | None) -> float:
    return backoff_seconds(
        attempt,
        retry_after_seconds(retry_after),
        base=_BACKOFF_BASE_SECONDS,
        cap=_BACKOFF_MAX_SECONDS,
    )


def drive_client(env: Mapping[str, str]) -> DriveClient:
    """A client signed in as the service account of GOOGLE_APPLICATION_CREDENTIALS."""
    path = env.get(GOOGLE_CREDENTIALS_ENV, "").strip()
    if not path:
        raise ConfigError(
            f"{GOOGLE_CREDENTIALS_ENV} is not set: point it at the JSON key file of the service "
            "account the Drive folder is shared with"
        )
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import service_account

    try:
        with open(path, encoding="utf-8") as file:
            info = json.load(file)
        credentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
    except OSError as error:
        raise ConfigError(
            f"{GOOGLE_CREDENTIALS_ENV}={path}: cannot read: {error.strerror}"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(
            f"{GOOGLE_CREDENTIALS_ENV}={path}: not a service-account JSON key file ({error})"
        ) from None
    base = env.get(GDRIVE_API_URL_ENV, "").strip() or GDRIVE_API_URL_DEFAULT
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    return DriveClient(session, base, credentials.service_account_email)


def parse_uri(uri: str) -> tuple[str, str | None]:
    """(folder id, glob or None) of gdrive://<folder id>[/<glob>]."""
    folder, _, pattern = uri[len(SCHEME) :].partition("/")
    if not _DRIVE_ID.fullmatch(folder):
        raise SourceError(f"{uri}: expected gdrive://<folder id>[/<glob>]")
    if "/" in pattern:
        raise SourceError(f"{uri}: the glob matches file names in the folder (no sub-folders)")
    return folder, pattern or None


def drive_sources(uri: str, client: DriveClient) -> list[Source]:
    """The folder's CSV / JSON Lines files and Google Sheets (all, or those whose name matches
    the glob), sorted by name; sub-folders and other documents are skipped."""
    folder, pattern = parse_uri(uri)
    matches = glob_regex(pattern).match if pattern else None
    found: list[Source] = []
    for item in client.list_folder(folder):
        name = str(item.get("name", ""))
        if item.get("mimeType") == FOLDER_MIME or (matches and not matches(name)):
            continue
        source = _source(client, item)
        if source is not None:
            found.append(source)
    if not found:
        raise SourceError(
            f"no CSV, JSON Lines file or Google Sheet in Drive folder {folder}"
            + (f" matches {pattern}" if pattern else "")
        )
    return found


def _source(client: DriveClient, item: Mapping[str, Any]) -> Source | None:
    file_id = str(item["id"])
    name = f"{SCHEME}{file_id}"
    if item.get("mimeType") == SHEET_MIME:
        version = item.get("version")
        return Source(
            name=name,
            fmt="csv",
            compressed=False,
            size=None,
            open_raw=lambda: client.open_export(file_id, "text/csv"),
            version=f"version:{version}" if version else f"modified:{item.get('modifiedTime')}",
            origin="gdrive",
            title=str(item.get("name", "")),
        )
    fmt = format_of(str(item.get("name", "")))
    if fmt is None:
        return None  # a PDF, a Google Doc, ...: nothing ingest reads
    md5 = item.get("md5Checksum")
    return Source(
        name=name,
        fmt=fmt[0],
        compressed=fmt[1],
        size=int(item["size"]) if "size" in item else None,
        open_raw=lambda: client.open_media(file_id),
        version=f"md5:{md5}" if md5 else f"version:{item.get('version')}",
        origin="gdrive",
        title=str(item.get("name", "")),
    )
