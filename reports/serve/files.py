"""The files a Derive request generates, each request's in a temporary folder of its own.

A folder is known by an opaque id (random, 128 bits) and holds only what the server wrote
there; a request names a file by that id and the file's name, both looked up in this store's
own table — neither ever becomes part of a path.  The oldest folders go once there are more
than ``keep`` or they are older than ``max_age`` seconds; :meth:`FileStore.close` removes them
all (the server calls it when it stops).

>>> store = FileStore(keep=2)
>>> ident, folder = store.create()
>>> with open(folder + "/a.txt", "w") as handle:
...     _ = handle.write("hello")
>>> store.publish(ident, ["a.txt"])
>>> store.path(ident, "a.txt") == folder + "/a.txt", store.path(ident, "../a.txt")
(True, None)
>>> store.close()
>>> store.path(ident, "a.txt") is None
True
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import threading
import time

__all__ = ["FileStore"]


class FileStore:
    """Temporary folders of generated files, served by opaque id."""

    def __init__(self, keep: int = 64, max_age: float = 3600.0):
        self.keep, self.max_age = keep, max_age
        self._root = tempfile.mkdtemp(prefix="symbackprop-serve-")
        self._folders: dict[str, tuple[float, str, frozenset]] = {}
        self._lock = threading.Lock()

    def create(self) -> tuple[str, str]:
        """A new empty folder: (its id, its path)."""
        ident = secrets.token_hex(16)
        folder = os.path.join(self._root, ident)
        os.mkdir(folder)
        with self._lock:
            self._folders[ident] = (time.monotonic(), folder, frozenset())
            self._prune()
        return ident, folder

    def publish(self, ident: str, names) -> None:
        """Make the files ``names`` of folder ``ident`` available."""
        with self._lock:
            if ident in self._folders:
                created, folder, _ = self._folders[ident]
                self._folders[ident] = (created, folder, frozenset(names))

    def discard(self, ident: str) -> None:
        """Remove folder ``ident`` and its files."""
        with self._lock:
            entry = self._folders.pop(ident, None)
        if entry:
            shutil.rmtree(entry[1], ignore_errors=True)

    def path(self, ident: str, name: str) -> str | None:
        """The path of file ``name`` of folder ``ident``, or ``None`` if there is no such
        published file."""
        with self._lock:
            entry = self._folders.get(ident)
        if entry is None or name not in entry[2]:
            return None
        path = os.path.join(entry[1], name)
        return path if os.path.isfile(path) else None

    def _prune(self) -> None:
        now = time.monotonic()
        old = [ident for ident, (created, _, _) in self._folders.items()
               if now - created > self.max_age]
        excess = len(self._folders) - len(old) - self.keep
        if excess > 0:
            ordered = sorted((created, ident) for ident, (created, _, _) in
                             self._folders.items() if ident not in old)
            old += [ident for _, ident in ordered[:excess]]
        for ident in old:
            shutil.rmtree(self._folders.pop(ident)[1], ignore_errors=True)

    def close(self) -> None:
        """Remove every folder."""
        with self._lock:
            self._folders.clear()
        shutil.rmtree(self._root, ignore_errors=True)
