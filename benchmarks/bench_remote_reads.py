"""Reading a remote (HTTP) zarr volume: zarr's own ``LRUStoreCache`` over an ``FSStore`` vs
DaCapo's remote store (``ZarrArrayConfig`` on a URL: one concurrent fetch of the missing
chunks, then the cache), for the first read of a ROI and a repeated read.

A standard-library HTTP server on 127.0.0.1 serves a generated uint8 volume and adds
``--latency-ms`` to each request, as a network would. Each line gives the wall seconds and the
HTTP requests of opening the array and of reading it; ``first_read_speedup_vs_zarr_cache``
compares the first reads (opening costs are the same few metadata requests either way, plus
DaCapo's format checks).

    .venv/bin/python benchmarks/bench_remote_reads.py [--volume 128] [--chunks 32] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import functools
import http.server
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from _common import emit


def serve(root: Path, latency_s: float):
    requests = Counter()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requests["GET"] += 1
            time.sleep(latency_s)
            super().do_GET()

        def do_HEAD(self):
            requests["HEAD"] += 1
            time.sleep(latency_s)
            super().do_HEAD()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, requests


def timed(function, requests):
    before = sum(requests.values())
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start, sum(requests.values()) - before


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volume", type=int, default=128, help="volume edge (voxels)")
    parser.add_argument("--chunks", type=int, default=32, help="chunk edge (voxels)")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args(argv)

    import fsspec
    import numpy as np
    import zarr
    from funlib.geometry import Roi

    from dacapo.experiments.datasplits.datasets.arrays import ZarrArrayConfig
    from dacapo.experiments.datasplits.datasets.arrays import zarr_array  # noqa: F401 (imports not timed)
    from dacapo.utils.synthetic import write_array

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        edge = args.volume
        data = np.random.default_rng(0).integers(0, 255, (edge,) * 3, dtype=np.uint8)
        write_array(root / "v.zarr", "raw", data, (1, 1, 1), chunks=args.chunks)
        server, requests = serve(root, args.latency_ms / 1000)
        url = f"http://127.0.0.1:{server.server_address[1]}/v.zarr"
        chunks = (edge // args.chunks) ** 3
        try:
            config = ZarrArrayConfig(name="raw", file_name=url, dataset="raw")
            roi = Roi((0, 0, 0), (edge,) * 3)
            plain_store = zarr.LRUStoreCache(
                zarr.storage.FSStore(url, fs=fsspec.filesystem("http"), mode="r"), max_size=1 << 30
            )
            ways = {  # (open, read)
                "zarr_lru_cache": (lambda: zarr.open_array(plain_store, path="raw", mode="r"), lambda a: a[:]),
                "dacapo_remote": (config.array, lambda a: a[roi]),
            }
            first = {}
            for way, (open_array, read) in ways.items():
                for attempt in ("first", "repeat"):
                    array, open_s, open_requests = timed(open_array, requests)
                    _, read_s, read_requests = timed(lambda: read(array), requests)
                    if attempt == "first":
                        first[way] = read_s
                    emit({
                        "bench": "remote_reads", "way": way, "read": attempt, "chunks": chunks,
                        "latency_ms": args.latency_ms, "open_s": round(open_s, 4),
                        "open_requests": open_requests, "read_s": round(read_s, 4),
                        "read_requests": read_requests,
                    })
            emit({
                "bench": "remote_reads", "chunks": chunks,
                "first_read_speedup_vs_zarr_cache": round(first["zarr_lru_cache"] / first["dacapo_remote"], 2),
            })
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    main()
