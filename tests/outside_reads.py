"""An audit hook that records files opened under a watched folder outside the repo."""

from __future__ import annotations

import os
import sys
from pathlib import Path


class OutsideReads:
    """Records every path opened inside `watched` (for the suite: `../shared`, which a plain
    clone does not have). Audit hooks cannot be removed, so `stop()` only disarms it."""

    def __init__(self, watched: Path) -> None:
        self.watched = str(watched.resolve())
        self.paths: list[str] = []
        self._armed = True
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[object, ...]) -> None:
        if not self._armed or event not in ("open", "os.listdir", "os.scandir"):
            return
        target = args[0] if args else None
        if isinstance(target, bytes):
            target = os.fsdecode(target)
        if not isinstance(target, str | os.PathLike):
            return
        path = os.path.abspath(os.fspath(target))
        if path == self.watched or path.startswith(self.watched + os.sep):
            self.paths.append(path)

    def stop(self) -> None:
        self._armed = False
