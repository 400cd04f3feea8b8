"""scikit-learn (and what it pulls in: scipy) is imported on first use, under one lock.

It costs seconds at start-up, so the aggregator imports it in a background thread and ticks meanwhile. Two
threads importing it at the same time can see a half-initialised package: the aggregator's warm-up thread and
its own model construction did ("ImportError: cannot import name 'clone' from partially initialized module
'sklearn.base'"), and the aggregator died at start. Every lazy sklearn import in analytics/ holds `LOCK`.
"""

from __future__ import annotations

import threading

LOCK = threading.RLock()
