"""Read-only access to zarr v3 containers on local disk: metadata from the ``zarr.json`` files,
chunk data decoded with numcodecs (regular chunk grids; the ``bytes``, ``transpose``,
``sharding_indexed``, ``gzip``, ``zstd``, ``blosc`` and ``crc32c`` codecs).

zarr-python ≥ 3 needs Python ≥ 3.12 and tensorstore aborts in forked processes (DaCapo's data
workers are forked), hence this small reader. Only the chunks (and, in sharded arrays, the inner
chunks and shard indexes) that intersect a request are read. ``crc32c`` checksums are stripped,
not verified (numcodecs 0.15 has no crc32c).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

import numpy as np

ByteReader = Callable[[Optional[int], Optional[int]], Optional[bytes]]
"""``read(offset, length)``: ``(None, None)`` the whole object, a negative offset counts from the
end; None when the object does not exist."""


class UnsupportedV3(ValueError):
    """Metadata this reader cannot decode (an unknown codec, chunk grid or data type)."""


# --- nodes --------------------------------------------------------------------------------------
def is_v3(path: Path, dataset: str = "") -> bool:
    """A zarr v3 container: a ``zarr.json`` at its root or on the way to ``dataset``."""
    parts = [p for p in dataset.split("/") if p]
    return any((path.joinpath(*parts[:depth]) / "zarr.json").is_file() for depth in range(len(parts) + 1))


class V3Nodes:
    """The groups and arrays of a local zarr v3 container."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def node(self, path: str) -> Optional[dict]:
        meta_file = self.root.joinpath(*[p for p in path.split("/") if p]) / "zarr.json"
        try:
            meta = json.loads(meta_file.read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        if meta.get("zarr_format") != 3:
            return None
        return meta

    def is_array(self, path: str) -> bool:
        return (self.node(path) or {}).get("node_type") == "array"

    def is_group(self, path: str) -> bool:
        node = self.node(path)
        if node is None:  # an implicit group: a directory holding nodes
            directory = self.root.joinpath(*[p for p in path.split("/") if p])
            return directory.is_dir() and bool(self.children(path))
        return node.get("node_type") == "group"

    def attrs(self, path: str) -> dict:
        """The node's attributes; OME-NGFF 0.5 keys (under ``ome``) also at the top level."""
        attrs = dict((self.node(path) or {}).get("attributes") or {})
        ome = attrs.get("ome")
        if isinstance(ome, dict):
            for key, value in ome.items():
                attrs.setdefault(key, value)
        return attrs

    def children(self, path: str) -> list[str]:
        directory = self.root.joinpath(*[p for p in path.split("/") if p])
        if not directory.is_dir():
            return []
        arrays, groups = [], []
        for child in sorted(directory.iterdir()):
            meta = self.node(f"{path}/{child.name}") if child.is_dir() else None
            if meta is not None:
                (arrays if meta.get("node_type") == "array" else groups).append(child.name)
        return arrays + [g + "/" for g in groups]

    def open_array(self, path: str) -> "V3Array":
        directory = self.root.joinpath(*[p for p in path.split("/") if p])
        try:
            return V3Array(directory, self.node(path))
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"the zarr v3 metadata {directory / 'zarr.json'} is invalid ({exc!r})") from None


# --- codecs -------------------------------------------------------------------------------------
def _bytes_codec(name: str, config: dict):
    import numcodecs

    if name == "gzip":
        return numcodecs.GZip(level=config.get("level", 1)).decode
    if name == "zstd":
        return numcodecs.Zstd().decode
    if name == "blosc":
        return numcodecs.Blosc().decode  # the blosc header describes the compression
    if name == "crc32c":
        return lambda data: bytes(data)[:-4]
    raise UnsupportedV3(f"codec {name!r} is not supported")


def _fill_value(value: Any, dtype: np.dtype):
    specials = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}
    if isinstance(value, str) and value in specials:
        return dtype.type(specials[value])
    if isinstance(value, str) and value.startswith("0x"):
        raw = int(value, 16).to_bytes(dtype.itemsize, "big")
        return np.frombuffer(raw, dtype=dtype.newbyteorder(">"))[0].astype(dtype)
    if isinstance(value, (list, tuple)) and dtype.kind == "c":
        return dtype.type(complex(_fill_value(value[0], np.dtype("f8")), _fill_value(value[1], np.dtype("f8"))))
    return dtype.type(0 if value is None else value)


class ChunkCodec:
    """A v3 codec pipeline: decodes the region of one chunk that a request needs."""

    def __init__(self, codecs: Sequence[dict], chunk_shape: Sequence[int], dtype: np.dtype, fill_value):
        self.chunk_shape = tuple(int(s) for s in chunk_shape)
        self.dtype = dtype
        self.fill_value = fill_value
        self.order: Optional[list[int]] = None
        self.shard: Optional[_Shard] = None
        self.endian = "little"
        self.bytes_decoders = []
        stage = "array"
        for codec in codecs:
            if isinstance(codec, str):
                codec = {"name": codec}
            name, config = codec.get("name"), codec.get("configuration") or {}
            if name == "transpose" and stage == "array" and self.order is None:
                order = config.get("order")
                if order in ("C", None):
                    order = list(range(len(self.chunk_shape)))
                elif order == "F":
                    order = list(range(len(self.chunk_shape)))[::-1]
                self.order = [int(o) for o in order]
            elif name == "bytes" and stage == "array":
                self.endian = config.get("endian", "little") or "little"
                stage = "bytes"
            elif name == "sharding_indexed" and stage == "array":
                if self.order is not None:
                    raise UnsupportedV3("a transpose before sharding_indexed is not supported")
                self.shard = _Shard(config, self.chunk_shape, dtype, fill_value)
                stage = "bytes"
            elif stage == "bytes":
                self.bytes_decoders.append(_bytes_codec(name, config))
            else:
                raise UnsupportedV3(f"codec {name!r} is not supported here")
        if stage != "bytes":
            raise UnsupportedV3("the codecs have no array-to-bytes codec")

    def _unwrap(self, data: bytes) -> bytes:
        for decode in reversed(self.bytes_decoders):
            data = decode(data)
        return data

    def decode_region(self, read: ByteReader, region: tuple[slice, ...]) -> np.ndarray:
        """The ``region`` (slices within the chunk) of the chunk stored at ``read``."""
        if self.shard is not None and not self.bytes_decoders:
            return self.shard.decode_region(read, region)
        data = read(None, None)
        if data is None:
            return np.full([s.stop - s.start for s in region], self.fill_value, dtype=self.dtype)
        data = self._unwrap(data)
        if self.shard is not None:  # compressed shard: decode it from memory
            buffer = bytes(data)
            return self.shard.decode_region(_memory_reader(buffer), region)
        dtype = self.dtype.newbyteorder("<" if self.endian == "little" else ">")
        shape = self.chunk_shape if self.order is None else [self.chunk_shape[o] for o in self.order]
        array = np.frombuffer(bytes(data) if not isinstance(data, (bytes, bytearray)) else data, dtype=dtype)
        array = array.reshape(shape)
        if self.order is not None:
            array = array.transpose(np.argsort(self.order))
        return np.asarray(array[region], dtype=self.dtype)


def _memory_reader(buffer: bytes) -> ByteReader:
    def read(offset, length):
        if offset is None:
            return buffer
        start = offset if offset >= 0 else len(buffer) + offset
        return buffer[start : start + length if length is not None else None]

    return read


class _Shard:
    """``sharding_indexed``: inner chunks located through an index at the end (or start)."""

    EMPTY = 2**64 - 1

    def __init__(self, config: dict, shard_shape, dtype, fill_value):
        self.inner_shape = tuple(int(s) for s in config["chunk_shape"])
        if any(s % i for s, i in zip(shard_shape, self.inner_shape)):
            raise UnsupportedV3(f"shard shape {tuple(shard_shape)} is not a multiple of {self.inner_shape}")
        self.per_shard = tuple(s // i for s, i in zip(shard_shape, self.inner_shape))
        self.inner = ChunkCodec(config.get("codecs", [{"name": "bytes"}]), self.inner_shape, dtype, fill_value)
        index_codecs = config.get("index_codecs", [{"name": "bytes"}, {"name": "crc32c"}])
        names = [c if isinstance(c, str) else c.get("name") for c in index_codecs]
        if any(n not in ("bytes", "crc32c") for n in names):
            raise UnsupportedV3(f"shard index codecs {names} are not supported")
        self.index_bytes = 16 * math.prod(self.per_shard) + 4 * names.count("crc32c")
        self.index_codec = ChunkCodec(index_codecs, self.per_shard + (2,), np.dtype("uint64"), self.EMPTY)
        self.index_at_start = config.get("index_location", "end") == "start"
        self.dtype = dtype
        self.fill_value = fill_value

    def decode_region(self, read: ByteReader, region: tuple[slice, ...]) -> np.ndarray:
        out = np.full([s.stop - s.start for s in region], self.fill_value, dtype=self.dtype)
        raw_index = read(0 if self.index_at_start else -self.index_bytes, self.index_bytes)
        if raw_index is None:
            return out
        full = tuple(slice(0, s) for s in self.per_shard + (2,))
        index = self.index_codec.decode_region(_memory_reader(raw_index), full)
        for inner, inner_region, out_region in _chunks_in(region, self.inner_shape):
            offset, length = (int(v) for v in index[inner])
            if offset == self.EMPTY and length == self.EMPTY:
                continue

            def read_inner(sub_offset, sub_length, offset=offset, length=length):
                if sub_offset is None:
                    return read(offset, length)
                start = sub_offset if sub_offset >= 0 else length + sub_offset
                return read(offset + start, sub_length)

            out[out_region] = self.inner.decode_region(read_inner, inner_region)
        return out


def _chunks_in(region: tuple[slice, ...], chunk_shape: Sequence[int]):
    """``(chunk index, slices within the chunk, slices within the region)`` for every chunk
    of a regular grid that intersects ``region``."""
    ranges = [range(s.start // c, -(-s.stop // c)) for s, c in zip(region, chunk_shape)]
    for index in np.ndindex(*[len(r) for r in ranges]):
        chunk = tuple(r[i] for r, i in zip(ranges, index))
        within, out = [], []
        for s, c, k in zip(region, chunk_shape, chunk):
            lo, hi = max(s.start, k * c), min(s.stop, (k + 1) * c)
            within.append(slice(lo - k * c, hi - k * c))
            out.append(slice(lo - s.start, hi - s.start))
        yield chunk, tuple(within), tuple(out)


# --- arrays -------------------------------------------------------------------------------------
def read_file_range(path: Path, offset: Optional[int], length: Optional[int]) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            if offset is None:
                return f.read()
            f.seek(offset, 0 if offset >= 0 else 2)
            return f.read(length) if length is not None else f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None


class V3Array:
    """A zarr v3 array as a lazy, read-only, numpy-like object (``shape``, ``dtype``, ``chunks``,
    ``attrs``, basic indexing) that dask and ``funlib.persistence.Array`` wrap; picklable."""

    def __init__(self, directory: Path, meta: dict):
        self.directory = Path(directory)
        self.meta = meta
        self.shape = tuple(int(s) for s in meta["shape"])
        self.ndim = len(self.shape)
        try:
            self.dtype = np.dtype(meta["data_type"])
        except TypeError:
            raise UnsupportedV3(f"data type {meta['data_type']!r} is not supported") from None
        grid = meta.get("chunk_grid") or {}
        if grid.get("name") != "regular":
            raise UnsupportedV3(f"chunk grid {grid.get('name')!r} is not supported")
        self.chunk_shape = tuple(int(c) for c in grid["configuration"]["chunk_shape"])
        self.attrs = dict(meta.get("attributes") or {})
        self.dimension_names = meta.get("dimension_names")
        fill = _fill_value(meta.get("fill_value"), self.dtype)
        self.codec = ChunkCodec(meta.get("codecs") or [], self.chunk_shape, self.dtype, fill)
        encoding = meta.get("chunk_key_encoding") or {"name": "default"}
        separator = (encoding.get("configuration") or {}).get("separator")
        if encoding.get("name") == "default":
            self._key = lambda idx, sep=separator or "/": sep.join(["c", *map(str, idx)])
        elif encoding.get("name") == "v2":
            self._key = lambda idx, sep=separator or ".": sep.join(map(str, idx)) if idx else "0"
        else:
            raise UnsupportedV3(f"chunk key encoding {encoding.get('name')!r} is not supported")

    @property
    def chunks(self) -> tuple[int, ...]:
        """The unit of reading: the inner chunk of a sharded array, else the chunk."""
        shard = self.codec.shard
        return shard.inner_shape if shard is not None and not self.codec.bytes_decoders else self.chunk_shape

    @property
    def dask_chunks(self) -> tuple[int, ...]:
        """Reading chunks grouped (within a chunk/shard) to at least ~2^18 voxels, so that
        small inner chunks do not make huge dask graphs."""
        chunks, outer = list(self.chunks), self.chunk_shape
        while math.prod(chunks) < 2**18:
            grown = False
            for axis in reversed(range(self.ndim)):
                if chunks[axis] * 2 <= min(outer[axis], self.shape[axis]) and math.prod(chunks) < 2**18:
                    chunks[axis] *= 2
                    grown = True
            if not grown:
                break
        return tuple(min(c, max(s, 1)) for c, s in zip(chunks, self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    def __dask_tokenize__(self):
        return ("dacapo-zarr-v3", str(self.directory), self.shape, str(self.dtype))

    def __getstate__(self):
        return {"directory": self.directory, "meta": self.meta}

    def __setstate__(self, state):
        self.__init__(state["directory"], state["meta"])

    def _region(self, key) -> tuple[tuple[slice, ...], tuple[int, ...]]:
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = key.index(Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        key = key + (slice(None),) * (self.ndim - len(key))
        if len(key) != self.ndim:
            raise IndexError(f"too many indices for an array of shape {self.shape}")
        region, squeeze = [], []
        for axis, (k, size) in enumerate(zip(key, self.shape)):
            if isinstance(k, (int, np.integer)):
                k = int(k) + size if k < 0 else int(k)
                if not 0 <= k < size:
                    raise IndexError(f"index {k} is out of bounds for axis {axis} with size {size}")
                region.append(slice(k, k + 1))
                squeeze.append(axis)
            elif isinstance(k, slice):
                start, stop, step = k.indices(size)
                if step != 1:
                    raise IndexError("zarr v3 arrays support only step-1 slices")
                region.append(slice(start, max(start, stop)))
            else:
                raise IndexError(f"unsupported index {k!r}")
        return tuple(region), tuple(squeeze)

    def __getitem__(self, key) -> np.ndarray:
        region, squeeze = self._region(key)
        out = np.empty([s.stop - s.start for s in region], dtype=self.dtype)
        if out.size:
            for chunk, within, out_region in _chunks_in(region, self.chunk_shape):
                chunk_file = self.directory / self._key(chunk)
                read = lambda offset, length, f=chunk_file: read_file_range(f, offset, length)  # noqa: E731
                out[out_region] = self.codec.decode_region(read, within)
        return out.squeeze(axis=squeeze) if squeeze else out

    get_basic_selection = __getitem__

    def __array__(self, dtype=None, copy=None):
        data = self[...]
        return data if dtype is None else data.astype(dtype)
