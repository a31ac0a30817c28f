"""Loading user functions for blockwise jobs by reference: a callable, a Python file
(``path/to/file.py`` or ``path/to/file.py:function``) or a module (``package.module`` or
``package.module:function``). References are resolved in each worker, so a worker file only
needs to exist at the same path on the cluster nodes."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, Union

FunctionRef = Union[str, Path, Callable]


def _split(ref: str) -> tuple[str, str | None]:
    # "C:\\x.py" is not a concern here (POSIX paths); split a trailing ":name" only
    if ":" in ref:
        target, name = ref.rsplit(":", 1)
        if name.isidentifier():
            return target, name
    return ref, None


def load_module(target: str):
    """A module from a ``.py`` file path or a dotted module name."""
    path = Path(target).expanduser()
    if target.endswith(".py") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"worker file {target} does not exist")
        path = path.resolve()
        name = "dacapo_user_" + hashlib.sha1(str(path).encode()).hexdigest()[:12] + "_" + path.stem
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        return module
    return importlib.import_module(target)


def load_function(ref: FunctionRef, names: Sequence[str]) -> tuple[Callable, Any]:
    """``(function, module or None)`` for ``ref``: a callable as it is; a file or module
    reference with an explicit ``:name``, else its first attribute among ``names``."""
    if callable(ref):
        return ref, None
    target, name = _split(str(ref))
    module = load_module(target)
    candidates = [name] if name else list(names)
    for candidate in candidates:
        function = getattr(module, candidate, None)
        if callable(function):
            return function, module
    raise AttributeError(
        f"{ref} defines none of {', '.join(candidates)}; define one of them (a function)"
    )


def describe(ref: FunctionRef) -> str:
    """A stable description of ``ref`` for fingerprints."""
    if callable(ref):
        module = getattr(ref, "__module__", "?")
        return f"{module}.{getattr(ref, '__qualname__', repr(ref))}"
    target, name = _split(str(ref))
    path = Path(target).expanduser()
    if path.is_file():
        stat = path.stat()
        return f"{path.resolve()}:{name or ''}@{stat.st_size}:{stat.st_mtime_ns}"
    return str(ref)
