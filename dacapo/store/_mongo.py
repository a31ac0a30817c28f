"""MongoDB plumbing shared by the Mongo backends: clients, credential redaction, retries and
one-line errors.

- Timeouts are short by default (``DEFAULT_TIMEOUT`` seconds to connect and to select a server);
  ``serverSelectionTimeoutMS``, ``connectTimeoutMS`` or ``socketTimeoutMS`` given in the URI win,
  and the stores take ``timeout=``.
- Transient errors (``AutoReconnect`` and its subclasses ``ServerSelectionTimeoutError``,
  ``NetworkTimeout``, ...) are retried with exponential backoff, then reported as one
  ``MongoUnavailableError`` line naming the (redacted) host and what to check. A server never
  reached since the store was created is not retried: the driver already waited ``timeout``
  for it, and a wrong host is likelier than a restart.
- ``user:password@`` (and password-like URI options) never appear in messages or logs.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from typing import Any, Callable, Optional, TypeVar
from urllib.parse import unquote

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0  # seconds: connect and server selection
DEFAULT_RETRIES = 2  # retries after the first attempt, for transient errors
DEFAULT_BACKOFF = 0.5  # seconds before the first retry, doubled for each next one
SOCKET_TIMEOUT_FACTOR = 6  # socket timeout = 6 x timeout: a hung server cannot block forever

CHECK = (
    "check that the MongoDB server is running and reachable from this machine, and mongodbhost "
    "in dacapo.yaml (or DACAPO_MONGODBHOST)"
)


class MongoUnavailableError(ConnectionError):
    """The MongoDB server could not be reached (after retries). One line, credentials redacted."""


class MongoStoreError(RuntimeError):
    """MongoDB refused an operation (bad URI, authentication, conflicting index...). One line,
    credentials redacted."""


_SCHEME = re.compile(r"^\s*(mongodb(?:\+srv)?://)", re.IGNORECASE)
_SECRET_OPTION = re.compile(
    r"((?:password|secret|token|tlsCertificateKeyFilePassword|authMechanismProperties)"
    r"[^=&]*=)[^&]*",
    re.IGNORECASE,
)
_URI_IN_TEXT = re.compile(r"mongodb(?:\+srv)?://[^\s'\"<>]*", re.IGNORECASE)


def redact(uri: Any) -> str:
    """``uri`` without credentials: ``mongodb://user:pass@host/`` → ``mongodb://***@host/``."""
    text = str(uri)
    match = _SCHEME.match(text)
    prefix = match.group(1) if match else ""
    rest = text[match.end() :] if match else text
    at = rest.rfind("@")  # passwords may hold '@' only escaped, but be safe: cut at the last one
    if at >= 0:
        rest = "***@" + rest[at + 1 :]
    return prefix + _SECRET_OPTION.sub(r"\1***", rest)


def _secrets(uri: str) -> list[str]:
    """User name and password of ``uri`` (raw and unescaped), to scrub them from any text."""
    match = _SCHEME.match(uri)
    rest = uri[match.end() :] if match else uri
    at = rest.rfind("@")
    if at < 0:
        return []
    userinfo = rest[:at]
    found = set()
    for part in [userinfo, *userinfo.split(":", 1)]:
        for value in (part, unquote(part)):
            if len(value) >= 3:
                found.add(value)
    return sorted(found, key=len, reverse=True)


def one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


class _Cleaner:
    def __init__(self, uri: str):
        self.secrets = _secrets(uri)

    def __call__(self, text: Any) -> str:
        text = _URI_IN_TEXT.sub(lambda m: redact(m.group(0)), str(text))
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return one_line(text)


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()


def _has_option(uri: str, option: str) -> bool:
    query = uri.split("?", 1)[1] if "?" in uri else ""
    return any(item.split("=", 1)[0].lower() == option.lower() for item in re.split("[&;]", query))


def _client(uri: str, timeout: float, options: dict):
    """A ``MongoClient`` for ``uri``; shared per process, host and timeout unless ``options``
    (e.g. ``event_listeners``) are given."""
    from pymongo import MongoClient

    key = (os.getpid(), uri, timeout)
    if not options:
        with _clients_lock:
            client = _clients.get(key)
            if client is not None:
                return client
    kwargs: dict[str, Any] = {"connect": False, "appname": "dacapo"}
    for option, value in (
        ("serverSelectionTimeoutMS", timeout),
        ("connectTimeoutMS", timeout),
        ("socketTimeoutMS", timeout * SOCKET_TIMEOUT_FACTOR),
    ):
        if not _has_option(uri, option):
            kwargs[option] = max(1, int(value * 1000))
    kwargs.update(options)
    client = MongoClient(uri, **kwargs)
    if not options:
        with _clients_lock:
            client = _clients.setdefault(key, client)
    return client


class MongoConnection:
    """A database of a MongoDB server, with retried calls and clean errors."""

    def __init__(
        self,
        db_host: Optional[str],
        db_name: Optional[str],
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        client_options: Optional[dict] = None,
    ):
        from pymongo.errors import PyMongoError

        if not db_host or not isinstance(db_host, str):
            raise MongoStoreError("type 'mongo' needs mongodbhost (a MongoDB URI) in dacapo.yaml")
        if not db_name or not isinstance(db_name, str):
            raise MongoStoreError("type 'mongo' needs mongodbname (a database name) in dacapo.yaml")
        self.host = redact(db_host)
        self.db_name = db_name
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.clean = _Cleaner(db_host)
        self.reached = False  # whether a call ever succeeded
        self.owns_client = bool(client_options)  # shared clients live as long as the process
        try:
            self.client = _client(db_host, self.timeout, dict(client_options or {}))
            self.db = self.client[db_name]
            self.timeout = self.client.options.server_selection_timeout  # the URI's may win
        except (PyMongoError, ValueError, TypeError) as exc:
            raise MongoStoreError(
                f"mongodbhost {self.host!r} / mongodbname {db_name!r} rejected: "
                f"{self.clean(exc)}; fix mongodbhost/mongodbname in dacapo.yaml"
            ) from None

    def close(self) -> None:
        """Close the client if it is this connection's own (not shared)."""
        if self.owns_client:
            self.client.close()

    def call(self, what: str, operation: Callable[[], T], retry: bool = True) -> T:
        """``operation()``, retried on transient errors; ``what`` ("storing task config 'x'")
        goes into the error. ``DuplicateKeyError`` and ``BulkWriteError`` pass through (callers
        resolve them); other pymongo errors become one-line ``MongoStoreError``s."""
        from pymongo.errors import (
            BulkWriteError,
            ConnectionFailure,
            DuplicateKeyError,
            OperationFailure,
            PyMongoError,
            ServerSelectionTimeoutError,
        )

        attempts = 1 + (max(self.retries, 0) if retry else 0)
        attempt = 0
        while True:
            try:
                result = operation()
            except (DuplicateKeyError, BulkWriteError):
                self.reached = True
                raise
            except ConnectionFailure as exc:
                attempt += 1
                never_reached = not self.reached and isinstance(exc, ServerSelectionTimeoutError)
                if attempt >= attempts or never_reached:
                    raise self.unavailable(what, exc) from None
                delay = self.backoff * 2 ** (attempt - 1)
                logger.info(
                    "MongoDB at %s: %s while %s; retrying in %.1f s",
                    self.host, type(exc).__name__, what, delay,
                )
                time.sleep(delay)
                continue
            except OperationFailure as exc:
                self.reached = True
                hint = (
                    "check the user, password and authSource in mongodbhost"
                    if exc.code in (13, 18)
                    else "check the database and its permissions"
                )
                raise MongoStoreError(
                    f"MongoDB at {self.host} (database {self.db_name!r}) refused {what}: "
                    f"{self.clean(exc)}; {hint}"
                ) from None
            except PyMongoError as exc:
                raise MongoStoreError(
                    f"MongoDB at {self.host} (database {self.db_name!r}) failed {what}: "
                    f"{type(exc).__name__}: {self.clean(exc)}"
                ) from None
            self.reached = True
            return result

    def unavailable(self, what: str, exc: BaseException) -> MongoUnavailableError:
        reason = str(exc).split(", Timeout:")[0]
        return MongoUnavailableError(
            f"MongoDB at {self.host} (database {self.db_name!r}) is unreachable while {what} "
            f"({type(exc).__name__}: {self.clean(reason)[:200]}; timeout {self.timeout:g} s); "
            f"{CHECK}"
        )
