"""A local HTTP server that answers as Google's Drive v3 API and OAuth token endpoint document.

No Google server is reachable from here, so this one answers the calls `workbench ingest
gdrive://…` makes with the documented shapes:

- POST /token: the service-account flow (RFC 7523 JWT bearer grant,
  https://developers.google.com/identity/protocols/oauth2/service-account#httprest): the JWT
  assertion's RS256 signature is verified with the public half of the key written into the
  key file, and its iss / aud / exp claims are checked, before an access token is
  issued;
- GET /drive/v3/files: files.list (https://developers.google.com/drive/api/reference/rest/v3/files/list)
  with `q='<folder>' in parents and trashed = false`, pages of PAGE_SIZE files linked by
  `nextPageToken`, and `fields` honoured for the file resource's fields;
- GET /drive/v3/files/<id>?alt=media: files.get's media download
  (https://developers.google.com/drive/api/reference/rest/v3/files/get); a Google Sheet
  answers 403 `fileNotDownloadable`, as Drive does;
- GET /drive/v3/files/<id>/export?mimeType=text/csv: files.export
  (https://developers.google.com/drive/api/reference/rest/v3/files/export);
- errors in Drive's JSON error shape (https://developers.google.com/drive/api/guides/handle-errors):
  404 `notFound`, 401 `authError`, and any injected fault (403 `rateLimitExceeded`, 429, 5xx,
  with or without Retry-After).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

FOLDER_MIME = "application/vnd.google-apps.folder"
SHEET_MIME = "application/vnd.google-apps.spreadsheet"
PAGE_SIZE = 2
ACCESS_TOKEN = "ya29.local-test-token"  # noqa: S105 - what the local token endpoint issues
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_EMAIL = "ingest@scout-retail.iam.gserviceaccount.com"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL


def drive_error(code: int, reason: str, message: str, domain: str = "global") -> dict[str, Any]:
    return {
        "error": {
            "errors": [{"domain": domain, "reason": reason, "message": message}],
            "code": code,
            "message": message,
        }
    }


@dataclass
class Fault:
    """One injected answer, served instead of the real one."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def rate_limited() -> Fault:
    return Fault(403, drive_error(403, "rateLimitExceeded", "Rate Limit Exceeded", "usageLimits"))


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    content: bytes = b""
    parents: tuple[str, ...] = ()
    version: int = 1
    modified_time: str = "2026-06-01T08:00:00.000Z"
    trashed: bool = False

    def resource(self) -> dict[str, Any]:
        """The file resource as files.list returns it for the fields ingest asks for."""
        item: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "version": str(self.version),
            "modifiedTime": self.modified_time,
        }
        if not self.mime_type.startswith("application/vnd.google-apps."):
            item["md5Checksum"] = hashlib.md5(self.content).hexdigest()  # noqa: S324 - Drive's
            item["size"] = str(len(self.content))
        return item


@dataclass
class FakeDrive:
    url: str
    key_file: Path
    public_key: rsa.RSAPublicKey
    files: dict[str, DriveFile] = field(default_factory=dict)
    # path (e.g. "/drive/v3/files/abc") -> faults served, in order, before the real answer
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    token_claims: list[dict[str, Any]] = field(default_factory=list)
    # delete a file right after the listing that returned it (gone before its download)
    delete_after_listing: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def add(self, item: DriveFile) -> DriveFile:
        self.files[item.id] = item
        return item

    def downloads(self) -> list[str]:
        """Paths of files.get?alt=media and files.export requests, in order."""
        return [
            path
            for method, path, query in self.requests
            if method == "GET" and (query.get("alt") == "media" or path.endswith("/export"))
        ]

    def listings(self) -> list[dict[str, str]]:
        return [q for m, p, q in self.requests if m == "GET" and p == "/drive/v3/files"]


def write_key_file(path: Path, token_uri: str) -> tuple[rsa.RSAPrivateKey, Path]:
    """A service-account key file as the Cloud console downloads it, with a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "scout-retail",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info))
    return key, path


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _handler(drive: FakeDrive) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(body).encode(), "application/json", headers or {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
            drive.requests.append(("POST", self.path, {k: v[0] for k, v in form.items()}))
            if self.path != "/token":
                self._json(404, drive_error(404, "notFound", "Not Found"))
                return
            claims = self._verified_claims(form)
            if claims is None:
                self._json(400, {"error": "invalid_grant", "error_description": "Invalid JWT"})
                return
            drive.token_claims.append(claims)
            self._json(
                200, {"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}
            )

        def _verified_claims(self, form: dict[str, list[str]]) -> dict[str, Any] | None:
            if form.get("grant_type") != [JWT_BEARER] or len(form.get("assertion", [])) != 1:
                return None
            header, payload, signature = form["assertion"][0].split(".")
            try:
                drive.public_key.verify(
                    _b64decode(signature),
                    f"{header}.{payload}".encode(),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
            except Exception:
                return None
            claims: dict[str, Any] = json.loads(_b64decode(payload))
            if json.loads(_b64decode(header)).get("alg") != "RS256":
                return None
            # "aud … When making an access token request this value is always
            # https://oauth2.googleapis.com/token" (service-account#authorizingrequests), even
            # when the POST goes to the key file's own token_uri, as it does here.
            if claims.get("aud") != GOOGLE_TOKEN_AUDIENCE or claims.get("iss") != CLIENT_EMAIL:
                return None
            if not claims.get("exp", 0) > time.time() >= claims.get("iat", 0) - 60:
                return None
            return claims

        def do_GET(self) -> None:
            parsed = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parsed.query))
            path = parsed.path
            with drive.lock:
                drive.requests.append(("GET", path, query))
            if self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                body = drive_error(401, "authError", "Invalid Credentials")
                self._json(401, body, {"WWW-Authenticate": "Bearer"})
                return
            with drive.lock:
                queue = drive.faults.get(path, [])
                fault = queue.pop(0) if queue else None
            if fault is not None:
                self._json(fault.status, fault.body, fault.headers)
                return
            if path == "/drive/v3/files":
                self._list(query)
                return
            match = re.fullmatch(r"/drive/v3/files/([A-Za-z0-9_-]+)(/export)?", path)
            item = drive.files.get(match.group(1)) if match else None
            if match is None or item is None or item.trashed:
                file_id = match.group(1) if match else path
                self._json(404, drive_error(404, "notFound", f"File not found: {file_id}."))
                return
            if match.group(2):
                self._export(item, query)
            elif query.get("alt") == "media":
                self._media(item)
            else:
                self._json(200, item.resource())

        def _list(self, query: dict[str, str]) -> None:
            found = re.fullmatch(r"'([A-Za-z0-9_-]+)' in parents and trashed = false", query["q"])
            if found is None:
                self._json(400, drive_error(400, "invalid", "Invalid Value"))
                return
            folder = found.group(1)
            children = sorted(
                (f for f in drive.files.values() if folder in f.parents and not f.trashed),
                key=lambda f: f.name,
            )
            start = int(query.get("pageToken", "0"))
            page = children[start : start + PAGE_SIZE]
            body: dict[str, Any] = {
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": [f.resource() for f in page],
            }
            if start + PAGE_SIZE < len(children):
                body["nextPageToken"] = str(start + PAGE_SIZE)
            with drive.lock:
                for f in page:
                    if f.id in drive.delete_after_listing:
                        f.trashed = True
            self._json(200, body)

        def _media(self, item: DriveFile) -> None:
            if item.mime_type.startswith("application/vnd.google-apps."):
                message = "Only files with binary content can be downloaded."
                self._json(403, drive_error(403, "fileNotDownloadable", message))
                return
            self._send(200, item.content, item.mime_type, {})

        def _export(self, item: DriveFile, query: dict[str, str]) -> None:
            if item.mime_type != SHEET_MIME or query.get("mimeType") != "text/csv":
                message = "Export only supports Docs Editors files."
                self._json(403, drive_error(403, "fileNotExportable", message))
                return
            self._send(200, item.content, "text/csv", {})

    return Handler


def serve_drive(directory: Path) -> Iterator[FakeDrive]:
    """Start the server; yields it with a key file whose token_uri points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    key, key_file = write_key_file(directory / "service-account.json", f"{url}/token")
    drive = FakeDrive(url=url, key_file=key_file, public_key=key.public_key())
    server.RequestHandlerClass = _handler(drive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield drive
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
