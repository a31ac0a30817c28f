"""Fault injection for the reliability tests: ``fault_point(name)`` marks a place in the store code
where a test may make the process die or an OS call fail.

``DACAPO_FAULT_INJECT`` holds comma-separated rules ``<point>:<action>[@<hit>]``: on the
``<hit>``-th time (default 1) this process reaches ``<point>`` the action happens once. Actions:
``kill`` (SIGKILL this process), ``stop`` (SIGSTOP it: it waits, holding what it holds,
until a SIGCONT), ``enospc`` (disk full), ``erofs`` (read-only filesystem),
``eio`` (I/O error), each raised as the ``OSError`` a failing write would raise. Unset, a fault
point costs one environment lookup. Points: ``checkpoint.write`` / ``best.write`` /
``stats.rewrite.write`` (an atomic write begins), ``checkpoint.written`` / ``best.written`` /
``stats.rewrite.written`` (its temp file is complete, not yet renamed), ``stats.append`` (half
of a stats append is on disk: a torn line), ``blockwise.marker`` (a block's output is written,
its done marker not yet; ``blockwise.marker.<task id>``: the same, for one task's blocks only)."""

from __future__ import annotations

import errno
import os
import signal

ENV = "DACAPO_FAULT_INJECT"

_ERRORS = {"enospc": errno.ENOSPC, "erofs": errno.EROFS, "eio": errno.EIO}
_SIGNALS = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}

_parsed: tuple = (None, {})  # (the environment value parsed, {point: (action, hit)})
_hits: dict[str, int] = {}


def _rules() -> dict[str, tuple[str, int]]:
    global _parsed
    spec = os.environ.get(ENV)
    if spec != _parsed[0]:
        rules = {}
        for rule in filter(None, (r.strip() for r in (spec or "").split(","))):
            point, _, action = rule.partition(":")
            action, _, hit = action.partition("@")
            if action not in _SIGNALS and action not in _ERRORS:
                raise ValueError(f"{ENV}: unknown action {action!r} in {rule!r}")
            rules[point] = (action, int(hit or 1))
        _parsed = (spec, rules)
        _hits.clear()
    return _parsed[1]


def fault_point(name: str, path: object = None) -> None:
    if not os.environ.get(ENV):
        return
    rule = _rules().get(name)
    if rule is None:
        return
    _hits[name] = _hits.get(name, 0) + 1
    action, hit = rule
    if _hits[name] != hit:
        return
    if action in _SIGNALS:
        os.kill(os.getpid(), _SIGNALS[action])
        return  # (after a SIGCONT)
    code = _ERRORS[action]
    raise OSError(code, os.strerror(code), None if path is None else str(path))
