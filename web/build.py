"""The build version: a hash of the code and assets a web process serves, so an open wall reloads after a deploy."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVED = ("*.py", "layouts/*.py", "callbacks/*.py", "web/*.py", "assets/*")


@functools.cache
def build_version(root: Path = ROOT) -> str:
    """12 hex digits that change whenever a served file changes (computed once per process)."""
    h = hashlib.sha1()
    for pattern in SERVED:
        for path in sorted(root.glob(pattern)):
            if path.is_file():
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:12]
