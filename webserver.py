"""The dashboard's HTTP server: waitress on poll(), with the limits a room full of screens and one bad client need.

waitress gives us a thread pool, `poll()` instead of `select()` (which fails past file descriptor 1024), a
total connection limit (beyond it new clients wait in the listen backlog) and an idle timeout. What it lacks,
added here:

- a per-address connection limit: one client (or one broken script) cannot take every connection;
- keep-alive after a 204 or 304: waitress closes the connection after any response without a Content-Length,
  and a response without a body may not carry one, so every "nothing new" answer of a polling screen (Dash's
  PreventUpdate) cost a new connection for its next request;
- a deadline for a request's head: a client has `header_timeout` seconds from connecting (or from the first
  byte of a later request on the same connection) to send its request line and headers, and
  `request_timeout` to send the whole request, so a client sending a byte a second (slowloris) is shed
  instead of holding a connection for ever (waitress's idle timeout restarts with every byte).

The process's soft limit on open files is raised to its hard limit, and the connection limit is kept below it.

With `reuse_port`, the listening socket is bound with SO_REUSEPORT: several web processes listen on one port and
Linux spreads new connections over the ones alive (`up` with WARROOM_WEB_PROCESSES > 1). Only then: a web left over
from an earlier `up` would otherwise silently share the port instead of failing with "address in use". The limits
are per process.
"""

from __future__ import annotations

import collections
import logging
import resource
import socket
import threading
import time
from dataclasses import dataclass

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

logger = logging.getLogger(__name__)

FD_HEADROOM = 128  # files the process needs besides client connections: Redis, logs, the thread pool's pipes


@dataclass
class Limits:
    connections: int = 2000  # in total
    per_address: int = 500  # from one client address (behind a reverse proxy, raise it: every client is one)
    header_timeout: float = 10.0  # seconds to send the request line and headers
    request_timeout: float = 60.0  # seconds to send a whole request, body included
    idle_timeout: float = 30.0  # a keep-alive connection with nothing to do


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            logger.warning("could not raise the open-files limit from %s to %s: %s", soft, target, exc)
    return soft


class KeepAliveTask(WSGITask):
    """A response without a body (204, 304) keeps an HTTP/1.1 connection open: nothing needs delimiting."""

    _bodiless = False

    def build_response_header(self):
        asked_close = self.request.headers.get("CONNECTION", "").lower() == "close"
        self._bodiless = self.version == "1.1" and not self.has_body and not asked_close and not self.close_on_finish
        try:
            return super().build_response_header()
        finally:
            self._bodiless = False

    def set_close_on_finish(self) -> None:
        if not self._bodiless:  # waitress's "no Content-Length, so close", which a bodiless answer never needs
            super().set_close_on_finish()


class GuardedChannel(HTTPChannel):
    """A waitress channel that knows when the request it is receiving began."""

    task_class = KeepAliveTask

    def __init__(self, server, sock, addr, adj, map=None):
        super().__init__(server, sock, addr, adj, map=map)
        self.request_began = self.creation_time  # the first request's clock starts at accept
        self.sent_any = False
        self.counted = True

    def received(self, data):
        if data:
            if self.request is None and self.sent_any:
                self.request_began = time.time()  # a later request on a kept-alive connection: from its first byte
            self.sent_any = True
        return super().received(data)

    def overdue(self, now: float, limits: Limits) -> bool:
        """Still receiving a request past its deadline (a connection between requests is only idle)."""
        if self.requests or self.will_close or self.close_when_flushed:
            return False  # being answered, or already closing
        if not self.sent_any:
            return now - self.creation_time > limits.header_timeout
        if self.request is None or self.request.completed:
            return False  # between requests: the idle timeout applies
        limit = limits.request_timeout if self.request.headers_finished else limits.header_timeout
        return now - self.request_began > limit

    def del_channel(self, map=None):
        if self.counted:
            self.counted = False
            self.server.release(self.addr)
        super().del_channel(map)


class GuardedServer(TcpWSGIServer):
    channel_class = GuardedChannel

    def __init__(self, application, limits: Limits, per_address: collections.Counter, reuse_port: bool = False, **kw):
        self.limits, self.per_address, self.reuse_port = limits, per_address, reuse_port
        self.refused, self.shed = 0, 0
        self._refusal_logged = 0.0
        self._count_lock = threading.Lock()
        super().__init__(application, **kw)

    def bind_server_socket(self):
        if self.reuse_port:  # before bind: every process on the port must set it
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().bind_server_socket()

    def handle_accept(self):
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            return  # the client went away before we got to it
        addr = self.fix_addr(addr)
        host = _host(addr)
        with self._count_lock:
            full = self.per_address[host] >= self.limits.per_address
            if not full:
                self.per_address[host] += 1
        if full:
            self.refused += 1
            now = time.monotonic()
            if now - self._refusal_logged > 10:
                self._refusal_logged = now
                logger.warning(
                    "refusing connections from %s: it holds %d (limit %d); %d refused so far",
                    host,
                    self.per_address[host],
                    self.limits.per_address,
                    self.refused,
                )
            try:
                conn.close()
            except OSError:
                pass
            return
        try:
            self.channel_class(self, conn, addr, self.adj, map=self._map)
        except OSError:
            self.release(addr)  # it went away while we set it up

    def release(self, addr) -> None:
        host = _host(addr)
        with self._count_lock:
            self.per_address[host] -= 1
            if self.per_address[host] <= 0:
                del self.per_address[host]

    def maintenance(self, now):
        super().maintenance(now)  # idle keep-alive connections past idle_timeout
        shed = [
            c for c in self.active_channels.values() if isinstance(c, GuardedChannel) and c.overdue(now, self.limits)
        ]
        for channel in shed:
            channel.will_close = True  # closed by the loop (writable() is now true)
        if shed:
            self.shed += len(shed)
            logger.info("closed %d connections that did not send their request in time", len(shed))


def _host(addr) -> str:
    return addr[0] if isinstance(addr, tuple) else str(addr)


def serve(app, host: str, port: int, threads: int = 16, limits: Limits | None = None, reuse_port: bool = False) -> None:
    """Serve the WSGI `app` until the process is stopped."""
    limits = limits or Limits()
    soft = raise_open_files_limit()
    if limits.connections > soft - FD_HEADROOM:
        capped = max(100, soft - FD_HEADROOM)
        logger.warning("open-files limit %d allows %d connections, not %d", soft, capped, limits.connections)
        limits.connections = capped
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident="warroom",
        asyncore_use_poll=True,
        connection_limit=limits.connections,
        channel_timeout=int(limits.idle_timeout),
        cleanup_interval=1,  # how often deadlines are checked
        backlog=2048,
    )
    socket_map: dict = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    per_address: collections.Counter = collections.Counter()
    servers = [
        GuardedServer(
            app, limits, per_address, reuse_port, map=socket_map, dispatcher=dispatcher, adj=adj, sockinfo=info
        )
        for info in adj.listen
        if info[0] in (socket.AF_INET, socket.AF_INET6)
    ]
    for server in servers:
        logger.info(
            "listening on %s:%s%s (poll; %d connections, %d per address, %gs to send a request head)",
            server.effective_host,
            server.effective_port,
            " (shared port)" if reuse_port else "",
            limits.connections,
            limits.per_address,
            limits.header_timeout,
        )
    try:
        wasyncore.loop(timeout=adj.asyncore_loop_timeout, map=socket_map, use_poll=True)
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        dispatcher.shutdown()
