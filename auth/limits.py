"""Sign-in rate limits: failed attempts counted per account and per address in Redis, each with a window TTL.

Checked before the password is hashed, so a flood costs the server no argon2 work; an attempt over a limit
is refused without being recorded, so a flood cannot grow the audit trail without bound either.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from store.keys import Keys

ACCOUNT = "account"
ADDRESS = "address"


@dataclass(frozen=True)
class Limits:
    per_account: int = 5  # failures per account within the window (then that account waits)
    per_address: int = 20  # failures from one address within the window, across every account
    window_s: int = 15 * 60


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    reason: str = ""


class SigninLimiter:
    def __init__(self, r: redis.Redis, keys: Keys, limits: Limits = Limits()):
        self.r, self.keys, self.limits = r, keys, limits

    def _keys(self, account: str, address: str) -> tuple[str, str]:
        return self.keys.signin_failures(ACCOUNT, account.lower()), self.keys.signin_failures(ADDRESS, address)

    def check(self, account: str, address: str) -> Decision:
        acc_key, addr_key = self._keys(account, address)
        pipe = self.r.pipeline(transaction=False)
        pipe.get(acc_key)
        pipe.ttl(acc_key)
        pipe.get(addr_key)
        pipe.ttl(addr_key)
        acc, acc_ttl, addr, addr_ttl = pipe.execute()
        if int(addr or 0) >= self.limits.per_address:
            return Decision(False, max(int(addr_ttl), 1), "too many failed sign-ins from this address")
        if int(acc or 0) >= self.limits.per_account:
            return Decision(False, max(int(acc_ttl), 1), "too many failed sign-ins for this account")
        return Decision(True)

    def queue_failure(self, pipe: redis.client.Pipeline, account: str, address: str) -> None:
        """Count one failure (on the caller's MULTI, with its audit entry); the window starts at the first."""
        for key in self._keys(account, address):
            pipe.incr(key)
            pipe.expire(key, self.limits.window_s, nx=True)

    def queue_success(self, pipe: redis.client.Pipeline, account: str) -> None:
        """A correct password clears the account's count (not the address's: spraying still counts)."""
        pipe.delete(self._keys(account, "")[0])
