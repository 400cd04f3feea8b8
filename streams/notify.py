"""Alerts out to a Slack incoming webhook (or any webhook URL), retried, never raising, never logging the URL."""

from __future__ import annotations

import http.client
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import Message

logger = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER_S = 30.0
SEVERITY_ICON = {
    "critical": ":rotating_light:",
    "high": ":warning:",
    "medium": ":large_yellow_circle:",
    "low": ":information_source:",
}
_STOP = object()


def format_text(alert: dict) -> str:
    """One line for notifications and clients without blocks."""
    title = alert.get("title") or str(alert.get("kind", "alert")).replace("_", " ")
    severity = alert.get("severity")
    return f"[{severity}] {title}" if severity else title


def format_payload(alert: dict) -> dict:
    """Slack-compatible JSON: text, blocks, and the raw alert under "alert" for other receivers."""
    at = alert.get("at") or alert.get("timestamp")
    fields = [
        f"*{k}:* {alert[k]}" for k in ("kind", "subject", "score", "mean", "baseline") if alert.get(k) is not None
    ]
    if at is not None:
        fields.append(f"*at:* {datetime.fromtimestamp(float(at), UTC):%H:%M:%S} UTC")
    icon = SEVERITY_ICON.get(alert.get("severity", ""), ":bell:")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{format_text(alert)}*"}}]
    if alert.get("detail"):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": str(alert["detail"])[:2900]}})
    if fields:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(fields)[:2900]}]})
    return {"text": format_text(alert), "blocks": blocks, "alert": alert}


def retry_after(headers: Message | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After in seconds), capped; None when absent or a date."""
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value is not None else None
    except ValueError:
        return None


class Notifier:
    """Posts alerts to one webhook. `send` blocks and retries; `start` + `submit` do it on a background thread.

    Uses the standard library's urllib, which logs nothing: an HTTP client's debug log would print the URL.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5,
        retries: int = 3,
        backoff_s: float = 0.5,
        queue_size: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError("webhook URL must start with http:// or https://; check WARROOM_ALERT_WEBHOOK_URL")
        self._url = url
        self.timeout, self.retries, self.backoff_s = timeout, retries, backoff_s
        self._sleep = sleep
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self.sent = self.failed = self.dropped = 0

    def __repr__(self) -> str:  # the URL is a secret: never in logs, reprs or tracebacks' locals display
        return f"Notifier(url=<hidden>, retries={self.retries}, sent={self.sent}, failed={self.failed})"

    def send(self, alert: dict) -> bool:
        """Deliver one alert; True on a 2xx. Retries 429/5xx (honouring Retry-After) and connection errors."""
        try:
            body = format_payload(alert)
        except (TypeError, ValueError) as exc:
            logger.warning("alert %s not sent: cannot format it (%s)", alert.get("id"), type(exc).__name__)
            self.failed += 1
            return False
        for attempt in range(self.retries + 1):
            wait = self._attempt(body, attempt)
            if wait is None:
                return True
            if wait < 0 or attempt == self.retries:
                break
            self._sleep(wait)
        logger.warning("alert %s not delivered to the webhook after %d attempts", alert.get("id"), attempt + 1)
        self.failed += 1
        return False

    def _attempt(self, body: dict, attempt: int) -> float | None:
        """None when delivered; else seconds to wait before retrying, or -1 when retrying cannot help."""
        backoff = self.backoff_s * 2**attempt
        request = urllib.request.Request(
            self._url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            logger.info("webhook attempt %d answered HTTP %d", attempt + 1, exc.code)
            if exc.code not in RETRY_STATUS:
                return -1.0
            asked = retry_after(exc.headers)
            return asked if asked is not None else backoff
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:  # messages may hold the URL
            logger.info("webhook attempt %d failed: %s", attempt + 1, type(exc).__name__)
            return backoff
        self.sent += 1
        return None

    # Background delivery ---------------------------------------------------------------------------------
    def start(self) -> Notifier:
        """Deliver submitted alerts on a daemon thread, so the aggregator never waits on a slow webhook."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)
            self._thread.start()
        return self

    def submit(self, alert: dict) -> bool:
        """Queue an alert for the background thread; False (and counted as dropped) when the queue is full."""
        try:
            self._queue.put_nowait(alert)
            return True
        except queue.Full:
            self.dropped += 1
            logger.warning("notifier queue full: alert %s dropped", alert.get("id"))
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (within `timeout`), then end the thread."""
        if self._thread is None:
            return
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            logger.warning("notifier queue still full at stop: some alerts were not delivered")
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while (alert := self._queue.get()) is not _STOP:
            try:
                self.send(alert)
            except Exception:  # never let one bad alert end the delivery thread
                logger.exception("notifier: unexpected error while sending an alert")
