"""A lease in Redis: exactly one holder at a time, for as long as it keeps renewing.

The aggregator holds one so that several can run for failover with exactly one writing snapshots: the holder
renews it every tick; when the holder dies the key lapses after `ttl_s` and a standby takes it. Writes that must
come from the holder only (the snapshot) are fenced with `fenced()`: a holder that stalled past its lease and was
replaced cannot write once more.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket

import redis

logger = logging.getLogger(__name__)

# Keep or take the lease: it is mine, or nobody's (lapsed) -> mine for ttl; someone else's -> refuse.
_RENEW = """
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class LeaseLost(Exception):
    """Another holder has the lease: stop writing."""


def holder_id() -> str:
    """Names this process in the lease: host, pid and a random part (a reused pid is not the same holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Lease:
    def __init__(self, r: redis.Redis, key: str, ttl_s: float, holder: str | None = None):
        self.r, self.key, self.ttl_ms = r, key, max(1, int(ttl_s * 1000))
        self.holder = holder or holder_id()
        self._renew = r.register_script(_RENEW)
        self._release = r.register_script(_RELEASE)

    def renew(self) -> bool:
        """Take or keep the lease; False while another holder has it."""
        return bool(self._renew(keys=[self.key], args=[self.holder, self.ttl_ms]))

    acquire = renew

    def take_from_dead(self) -> bool:
        """Take the lease at once when its holder was a process on this host that no longer exists (a restarted
        aggregator need not wait for a killed one's lease to lapse). Any doubt -> False: wait for the lapse."""
        held = self.current()
        if not held or held == self.holder:
            return self.renew()
        host, _, rest = held.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit() or _alive(int(pid)):
            return False
        if self._release(keys=[self.key], args=[held]):
            logger.info("took the lease from %s: that process is gone", held)
        return self.renew()

    def release(self) -> None:
        """Give it up at once (a clean stop), so a standby need not wait for it to lapse."""
        self._release(keys=[self.key], args=[self.holder])

    def current(self) -> str | None:
        v = self.r.get(self.key)
        return v.decode() if isinstance(v, bytes) else v

    def fenced(self, write) -> None:
        """Run `write(pipe)` in a transaction that commits only if this holder still has the lease."""
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self.key)
                v = pipe.get(self.key)
                v = v.decode() if isinstance(v, bytes) else v
                if v is not None and v != self.holder:
                    raise LeaseLost(f"the lease is held by {v!r}")
                pipe.multi()
                if v is None:  # lapsed while this holder stalled and nobody took it: take it back with the write
                    pipe.set(self.key, self.holder, px=self.ttl_ms)
                write(pipe)
                pipe.execute()
            except redis.WatchError as exc:
                raise LeaseLost("the lease changed hands during the write") from exc
