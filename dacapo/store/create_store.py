"""Stores chosen by the options (``dacapo.yaml``): ``type: files`` keeps everything under
``runs_base_dir``; ``type: mongo`` keeps configs and stats in MongoDB, weights and arrays still
under ``runs_base_dir``. Backends are imported only when chosen."""

from __future__ import annotations

import os
from pathlib import Path

from dacapo.options import Options

_stats_stores: dict = {}


def create_config_store():
    options = Options.instance()
    if options.type == "mongo":
        from .mongo_config_store import MongoConfigStore

        return MongoConfigStore(options.mongodbhost, options.mongodbname)
    from .file_config_store import FileConfigStore

    return FileConfigStore(Path(options.runs_base_dir) / "configs")


def create_stats_store():
    """Stats stores are shared per directory (files) or per host and database (mongo): their
    cursors make appends O(new), and a Mongo store keeps the stats buffered during an outage."""
    options = Options.instance()
    if options.type == "mongo":
        from .mongo_stats_store import MongoStatsStore

        # per process: MongoDB clients do not survive a fork
        key = ("mongo", os.getpid(), options.mongodbhost, options.mongodbname)
        if key not in _stats_stores:
            _stats_stores[key] = MongoStatsStore(options.mongodbhost, options.mongodbname)
        return _stats_stores[key]
    from .file_stats_store import FileStatsStore

    path = Path(options.runs_base_dir) / "stats"
    if path not in _stats_stores:
        _stats_stores[path] = FileStatsStore(path)
    return _stats_stores[path]


def create_weights_store():
    from .local_weights_store import LocalWeightsStore

    return LocalWeightsStore(Options.instance().runs_base_dir)


def create_array_store():
    from .local_array_store import LocalArrayStore

    return LocalArrayStore(Options.instance().runs_base_dir)
