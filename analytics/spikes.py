"""Streaming spike and dip detection on a volume series: robust EW z-scores with warm-up and cool-down."""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

Kind = Literal["spike", "dip"]
Window = tuple[float, float]

# Defaults chosen on the NAB Twitter volume series (5-minute counts); see docs/analytics.md.
DEFAULT_HALF_LIFE_S = 24 * 3600.0
DEFAULT_THRESHOLD = 4.0
DEFAULT_DIP_THRESHOLD = 8.0
DEFAULT_WARMUP_S = 12 * 3600.0
DEFAULT_COOLDOWN_S = 24 * 3600.0
DEFAULT_NOISE_FLOOR = 1.0
DEFAULT_CLIP = 1.5
DEFAULT_CONFIRM = 2


@dataclass(frozen=True)
class Alert:
    timestamp: float
    kind: Kind
    score: float
    value: float
    expected: float


def anscombe(value: float) -> float:
    """Variance-stabilising transform for counts: Poisson noise has std ~1 afterwards."""
    return 2.0 * math.sqrt(max(value, 0.0) + 0.375)


def inverse_anscombe(y: float) -> float:
    return max((y / 2.0) ** 2 - 0.375, 0.0)


def _identity(value: float) -> float:
    return value


TRANSFORMS: dict[str, tuple[Callable[[float], float], Callable[[float], float]]] = {
    "anscombe": (anscombe, inverse_anscombe),
    "log": (lambda v: math.log1p(max(v, 0.0)), lambda y: math.expm1(y)),
    "none": (_identity, _identity),
}


def in_schedule(timestamp: float, schedule: Sequence[Window]) -> bool:
    return any(start <= timestamp <= end for start, end in schedule)


class _Gate:
    """One alert per excursion: fire after `confirm` points in a row over the threshold, then stay
    quiet until the cool-down has passed and the score has settled below `rearm`."""

    def __init__(self, cooldown_s: float, rearm: float, confirm: int = 1) -> None:
        self.cooldown_s = cooldown_s
        self.rearm = rearm
        self.confirm = confirm
        self.last_alert = -math.inf
        self.armed = True
        self.run = 0

    def fire(self, timestamp: float, score: float, threshold: float) -> bool:
        self.run = self.run + 1 if score > threshold else 0
        if not self.armed and score < self.rearm and timestamp - self.last_alert >= self.cooldown_s:
            self.armed = True
        if self.armed and self.run >= self.confirm:
            self.armed = False
            self.last_alert = timestamp
            return True
        return False


class SpikeDetector:
    """Exponentially weighted mean/variance of the (transformed) series; alerts on large z-scores.

    The EW update clips each innovation at `clip` standard deviations, so a spike barely moves the
    baseline and the variance, while a lasting level shift is still absorbed over a few half-lives.
    """

    def __init__(
        self,
        *,
        half_life_s: float = DEFAULT_HALF_LIFE_S,
        threshold: float = DEFAULT_THRESHOLD,
        dip_threshold: float | None = DEFAULT_DIP_THRESHOLD,
        warmup_s: float = DEFAULT_WARMUP_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        noise_floor: float = DEFAULT_NOISE_FLOOR,
        clip: float = DEFAULT_CLIP,
        confirm: int = DEFAULT_CONFIRM,
        transform: str = "anscombe",
        schedule: Sequence[Window] = (),
        min_value: float = 0.0,
        dip_confirm: int | None = None,
    ) -> None:
        """`min_value`: a spike needs at least this value (e.g. posts per bin), whatever its z. `dip_confirm`:
        points in a row for a dip (default `confirm`): a feed that pauses for one bin is not a dip."""
        self.half_life_s = half_life_s
        self.min_value = min_value
        self.threshold = threshold
        self.dip_threshold = dip_threshold
        self.warmup_s = warmup_s
        self.noise_floor = noise_floor
        self.clip = clip
        self.forward, self.inverse = TRANSFORMS[transform]
        self.schedule = list(schedule)
        self._spikes = _Gate(cooldown_s, rearm=threshold / 2, confirm=confirm)
        self._dips = _Gate(cooldown_s, rearm=(dip_threshold or threshold) / 2, confirm=dip_confirm or confirm)
        self._start: float | None = None
        self._last: float | None = None
        self._mean = 0.0
        self._var = 0.0
        self._n = 0  # points learned: the first ones are plain running averages (see _update)

    @property
    def expected(self) -> float:
        return self.inverse(self._mean)

    def score(self, y: float) -> float:
        return (y - self._mean) / max(math.sqrt(self._var), self.noise_floor)

    def step(self, timestamp: float, value: float) -> Alert | None:
        """Feed one point (timestamps ascending); returns an alert when this point is anomalous."""
        y = self.forward(value)
        if self._start is None:
            self._start, self._last, self._mean = timestamp, timestamp, y
            return None
        z = self.score(y)
        alert = self._judge(timestamp, z, value)
        if not in_schedule(timestamp, self.schedule):
            self._update(timestamp, y)
        self._last = timestamp
        return alert

    def _judge(self, timestamp: float, z: float, value: float) -> Alert | None:
        if timestamp - self._start < self.warmup_s:
            return None
        spike_z = z if value >= self.min_value else min(z, 0.0)
        if not in_schedule(timestamp, self.schedule) and self._spikes.fire(timestamp, spike_z, self.threshold):
            return Alert(timestamp, "spike", z, value, self.expected)
        if self.dip_threshold is not None and self._dips.fire(timestamp, -z, self.dip_threshold):
            return Alert(timestamp, "dip", z, value, self.expected)
        return None

    def _update(self, timestamp: float, y: float) -> None:
        dt = max(timestamp - self._last, 0.0)
        alpha = 1.0 - 0.5 ** (dt / self.half_life_s)
        self._n += 1
        # While warming up, learn as a running average: a near-empty first point (a source that has just
        # started) must not become a baseline that later reads ordinary volume as a spike.
        warming = timestamp - self._start < self.warmup_s
        if warming:
            alpha = max(alpha, 1.0 / (self._n + 1))
        std = max(math.sqrt(self._var), self.noise_floor)
        delta = y - self._mean
        if not warming:
            delta = min(max(delta, -self.clip * std), self.clip * std)
        self._mean += alpha * delta
        self._var = (1.0 - alpha) * (self._var + alpha * delta * delta)


class MeanSigmaDetector:
    """The plain baseline: alert when a point is more than `sigmas` std from the running mean of all history."""

    def __init__(
        self,
        *,
        sigmas: float = 3.0,
        warmup_s: float = DEFAULT_WARMUP_S,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        dips: bool = True,
        schedule: Sequence[Window] = (),
    ) -> None:
        self.sigmas = sigmas
        self.warmup_s = warmup_s
        self.dips = dips
        self.schedule = list(schedule)
        self._spikes = _Gate(cooldown_s, rearm=sigmas / 2)
        self._dips = _Gate(cooldown_s, rearm=sigmas / 2)
        self._start: float | None = None
        self._n = 0
        self._mean = 0.0
        self._m2 = 0.0

    def step(self, timestamp: float, value: float) -> Alert | None:
        if self._start is None:
            self._start = timestamp
        alert = self._judge(timestamp, value)
        self._n += 1
        delta = value - self._mean
        self._mean += delta / self._n
        self._m2 += delta * (value - self._mean)
        return alert

    def _judge(self, timestamp: float, value: float) -> Alert | None:
        if timestamp - self._start < self.warmup_s or self._n < 2:
            return None
        std = math.sqrt(self._m2 / (self._n - 1))
        z = (value - self._mean) / std if std > 0 else 0.0
        if not in_schedule(timestamp, self.schedule) and self._spikes.fire(timestamp, z, self.sigmas):
            return Alert(timestamp, "spike", z, value, self._mean)
        if self.dips and self._dips.fire(timestamp, -z, self.sigmas):
            return Alert(timestamp, "dip", z, value, self._mean)
        return None


METHODS = {"ewz": SpikeDetector, "mean3sigma": MeanSigmaDetector}


def make_detector(method: str = "ewz", **params: object) -> SpikeDetector | MeanSigmaDetector:
    if method not in METHODS:
        raise ValueError(f"unknown detector method {method!r}; choose one of {sorted(METHODS)}")
    return METHODS[method](**params)


def detect_series(rows: Iterable[tuple[float, float]], *, method: str = "ewz", **params: object) -> Iterator[Alert]:
    """Run a fresh detector over (epoch seconds, value) rows, yielding each alert."""
    detector = make_detector(method, **params)
    for timestamp, value in rows:
        alert = detector.step(timestamp, value)
        if alert is not None:
            yield alert


def parse_timestamp(text: str) -> float:
    """Epoch seconds from an ISO-like timestamp; naive times are taken as UTC."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_csv(path: str | Path) -> Iterator[tuple[str, float, float]]:
    """(timestamp text, epoch seconds, value) per row of a `timestamp,value` CSV."""
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text = row["timestamp"]
            yield text, parse_timestamp(text), float(row["value"])


def detect_csv(path: str | Path, *, method: str = "ewz", **params: object) -> Iterator[dict]:
    """Alerts over a `timestamp,value` CSV as JSON-able dicts keeping the CSV's timestamp text."""
    detector = make_detector(method, **params)
    for text, timestamp, value in read_csv(path):
        alert = detector.step(timestamp, value)
        if alert is not None:
            yield {
                "timestamp": text,
                "kind": alert.kind,
                "score": round(alert.score, 3),
                "value": value,
                "expected": round(alert.expected, 3),
            }


def baseline_csv(path: str | Path, **params: object) -> Iterator[dict]:
    """The mean+3-sigma baseline over a CSV, same output as `detect_csv`."""
    return detect_csv(path, method="mean3sigma", **params)
