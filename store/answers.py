"""Screen answers shared between web processes: the bytes one of them computed for a question, for the others.

callbacks/response_cache.py shares an answer among the screens of one process; with several web processes
(WARROOM_WEB_PROCESSES) this is the layer under it. The process that computes an answer stores it for ANSWER_TTL_S
(the question carries the snapshot version, so a stored answer is never out of date, only unused). While one
computes, it holds a short lock (SET NX) and the others wait for its bytes instead of computing too.

A Redis error is never a screen's problem: every call then says "compute it yourself".
"""

from __future__ import annotations

import logging
import time

import redis

from store.keys import ANSWER_LOCK_S, ANSWER_TTL_S, Keys

logger = logging.getLogger(__name__)

POLL_S = 0.02  # how often a waiting process looks for the answer another one is computing
FIELDS = ("status", "mimetype", "data", "packed")
Answer = tuple[int, bytes, bytes, str]  # (status, body, gzipped body or b"", mimetype), as ResponseCache keeps it

# The answer if there is one; else take the lock (1) or see that another process holds it (0). One round trip,
# atomic: an answer stored between a look and a lock cannot be computed twice.
_FETCH_OR_CLAIM = """
local a = redis.call('HMGET', KEYS[1], 'status', 'mimetype', 'data', 'packed')
if a[1] then return a end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return 1 end
return 0
"""


class SharedAnswers:
    def __init__(self, r: redis.Redis, keys: Keys, namespace: str = ""):
        """`namespace` (the build version) keeps two builds of the app from sharing answers during a deploy."""
        self.r, self.keys, self.namespace = r, keys, namespace
        self._fetch_or_claim = r.register_script(_FETCH_OR_CLAIM)

    def _q(self, question: str) -> str:
        return f"{self.namespace}:{question}" if self.namespace else question

    def obtain(self, question: str, wait_s: float) -> Answer | None:
        """The answer another process computed, waiting up to `wait_s` while one computes it. None: the caller
        computes it now (it holds the lock, or the holder is slow) and then calls `put` or `release`."""
        q = self._q(question)
        deadline = time.monotonic() + wait_s
        try:
            while True:
                got = self._fetch_or_claim(
                    keys=[self.keys.answer(q), self.keys.answer_lock(q)], args=[_ms(ANSWER_LOCK_S)]
                )
                if isinstance(got, list):
                    status, mimetype, data, packed = got
                    return int(status), data, packed or b"", mimetype.decode()
                if got == 1 or time.monotonic() >= deadline:
                    return None
                time.sleep(POLL_S)
        except redis.RedisError as exc:
            logger.debug("shared answers unavailable (%s): computing here", exc)
            return None

    def put(self, question: str, answer: Answer) -> None:
        status, data, packed, mimetype = answer
        q = self._q(question)
        try:
            with self.r.pipeline(transaction=True) as pipe:
                pipe.hset(self.keys.answer(q), mapping=dict(zip(FIELDS, (status, mimetype, data, packed), strict=True)))
                pipe.pexpire(self.keys.answer(q), _ms(ANSWER_TTL_S))
                pipe.delete(self.keys.answer_lock(q))
                pipe.execute()
        except redis.RedisError as exc:
            logger.debug("could not share an answer (%s)", exc)

    def release(self, question: str) -> None:
        """Computing failed: let the next process that asks compute it, rather than wait for the lock to lapse."""
        try:
            self.r.delete(self.keys.answer_lock(self._q(question)))
        except redis.RedisError:
            pass


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
