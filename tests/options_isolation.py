"""Test sessions that cannot leak into a user's DaCapo setup, nor it into them."""

_ENV_KEYS = (
    "DACAPO_MONGODBHOST", "DACAPO_MONGODBNAME", "DACAPO_MONGO_DB_HOST", "DACAPO_MONGO_DB_NAME",
    "DACAPO_COMPUTE_CONTEXT", "DACAPO_FAULT_INJECT",
)


def isolate_options(patch, root) -> None:
    """Point every store at ``root/runs`` (``type: files``) through ``patch`` (a
    ``pytest.MonkeyPatch``); no user ``dacapo.yaml`` (explicit, ``./`` or ``~/``) and no
    ``DACAPO_*`` setting of the calling environment applies."""
    for key in _ENV_KEYS:
        patch.delenv(key, raising=False)
    patch.setenv("DACAPO_OPTIONS_FILE", str(root / "no-such-dacapo.yaml"))
    patch.setenv("DACAPO_RUNS_BASE_DIR", str(root / "runs"))
    patch.setenv("DACAPO_TYPE", "files")
    patch.setenv("HOME", str(root / "home"))
    patch.chdir(root)
