"""Start from a published COSEM pretrained network (downloaded once, cached)."""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from dacapo.config import ConfigError

from .start import transfer_state

logger = logging.getLogger(__name__)

#: Where the COSEM networks are published (``<base>/<setup>/<iteration>``); the environment
#: variable ``DACAPO_COSEM_URL`` overrides it.
COSEM_URL = "https://janelia-cosem-networks.s3.amazonaws.com"
TIMEOUT_S = 10.0


def cache_dir() -> Path:
    return Path(os.environ.get("DACAPO_COSEM_CACHE", Path.home() / ".cache" / "dacapo" / "cosem"))


class CosemStart:
    def __init__(self, config):
        self.run = config.run
        self.criterion = str(config.criterion)

    @property
    def url(self) -> str:
        base = os.environ.get("DACAPO_COSEM_URL", COSEM_URL).rstrip("/")
        return f"{base}/{self.run}/{self.criterion}"

    @property
    def path(self) -> Path:
        return cache_dir() / self.run / self.criterion

    def fetch(self) -> Path:
        """The cached checkpoint file, downloading it first if needed; a one-line
        ``ConfigError`` when it cannot be fetched (offline, unknown setup)."""
        path = self.path
        if path.exists():
            return path
        try:
            with urllib.request.urlopen(self.url, timeout=TIMEOUT_S) as response:
                data = response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise ConfigError(
                f"CosemStartConfig: cannot fetch COSEM weights {self.run!r}/{self.criterion!r} "
                f"from {self.url} ({reason}); offline? put the file at {path}"
            ) from None
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def initialize_weights(self, model, weights_store=None, channels=None) -> str:
        from dacapo.utils.checkpoints import CheckpointError, load_checkpoint

        path = self.fetch()
        try:
            state = load_checkpoint(path)
        except (OSError, CheckpointError) as error:
            raise ConfigError(f"CosemStartConfig: cannot read {path}: {error}") from None
        if isinstance(state, dict) and isinstance(state.get("model"), dict):
            state = state["model"]
        transfer_state(model, state, what=f"COSEM start {self.run}/{self.criterion}")
        return self.criterion


from dacapo.compat import removed_names  # noqa: E402

__getattr__ = removed_names(__name__)  # the names of dacapo-ml 0.3.5 that are gone
