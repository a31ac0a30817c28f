"""Remote containers (``s3://``, ``gs://``, ``https://``...) read through fsspec.

A container opens as a read-only zarr store (``FSStore``, or ``N5FSStore`` for N5) behind an
in-memory LRU cache of chunks and metadata, one per container, storage options and process, so
that training reads each chunk from the network once. fsspec's asynchronous file systems cannot
be used in a forked child (gunpowder's data fetchers, daisy workers), so the store makes a new
file system in each process that uses it; chunks already cached before the fork stay.
"""

from __future__ import annotations

import os
import warnings

import zarr

from dacapo.utils.paths import protocol

#: bytes of chunks and metadata kept per remote container and process
#: (``DACAPO_REMOTE_CACHE_BYTES`` overrides it)
REMOTE_CACHE_BYTES = 1 << 30
_REMOTE_STORES: dict = {}


def remote_storage_options(path) -> dict:
    """fsspec options for a remote container: those of the ``UPath``, and for S3 anonymous
    access where no AWS credentials are configured (public buckets such as
    ``s3://janelia-cosem-datasets``). Credentials come from the usual places (environment,
    ``~/.aws``, ``GOOGLE_APPLICATION_CREDENTIALS``), never from a stored config."""
    options = dict(getattr(path, "storage_options", {}) or {})
    if protocol(path) in ("s3", "s3a") and "anon" not in options and not _aws_credentials():
        options["anon"] = True
    return options


def _aws_credentials() -> bool:
    try:
        import botocore.session

        return botocore.session.get_session().get_credentials() is not None
    except Exception:
        return False


def remote_path(path):
    """``path`` as a ``UPath`` made in this process with ``remote_storage_options`` (a
    ``UPath`` keeps the file system it first used, which a forked child cannot use)."""
    from upath import UPath

    return UPath(str(path), **remote_storage_options(path))


class _PerProcessStore(zarr.storage.BaseStore):
    """A read-only ``FSStore`` (or ``N5FSStore``) made anew in each process that reads it."""

    def __init__(self, url: str, fs_protocol: str, options: dict, n5: bool):
        self._url, self._protocol, self._options, self._n5 = url, fs_protocol, options, n5
        self._pid, self._store = None, None

    def _inner(self):
        if self._pid != os.getpid():
            import fsspec

            fs = fsspec.filesystem(self._protocol, **self._options)
            kind = zarr.n5.N5FSStore if self._n5 else zarr.storage.FSStore
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self._store = kind(self._url, fs=fs, mode="r")
            self._pid = os.getpid()
        return self._store

    def __getitem__(self, key):
        return self._inner()[key]

    def getitems(self, keys, *, contexts):
        return self._inner().getitems(keys, contexts=contexts)

    def __contains__(self, key):
        return key in self._inner()

    def __iter__(self):
        return iter(self._inner())

    def __len__(self):
        return len(self._inner())

    def keys(self):
        return self._inner().keys()

    def listdir(self, path=None):
        return self._inner().listdir(path)

    def __setitem__(self, key, value):
        raise PermissionError(f"{self._url} is remote, which DaCapo reads only")

    def __delitem__(self, key):
        raise PermissionError(f"{self._url} is remote, which DaCapo reads only")


class _ChunkCache(zarr.LRUStoreCache):
    """An LRU cache whose ``getitems`` fetches the chunks it lacks in one concurrent call of the
    remote store: zarr's default asks whether each chunk exists first, a request per chunk."""

    def getitems(self, keys, *, contexts):
        found, missing = {}, []
        with self._mutex:
            for key in keys:
                if key in self._values_cache:
                    found[key] = self._values_cache[key]
                    self._values_cache.move_to_end(key)
                    self.hits += 1
                else:
                    missing.append(key)
        if missing:
            fetched = self._store.getitems(missing, contexts=contexts)
            with self._mutex:
                self.misses += len(missing)
                for key, value in fetched.items():
                    if key not in self._values_cache:
                        self._cache_value(key, value)
            found.update(fetched)
        return found


def remote_store(path, n5: bool = False):
    """The cached read-only zarr store of a remote container."""
    url = str(path)
    options = remote_storage_options(path)
    key = (url, n5, repr(sorted(options.items())))
    if key not in _REMOTE_STORES:
        max_size = int(os.environ.get("DACAPO_REMOTE_CACHE_BYTES", REMOTE_CACHE_BYTES))
        store = _PerProcessStore(url, protocol(path), options, n5)
        _REMOTE_STORES[key] = _ChunkCache(store, max_size=max_size)
    return _REMOTE_STORES[key]
