"""Typed settings: the event file (what to watch) and the environment (where and with what secrets)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EVENT = ROOT / "config" / "superbowl.yaml"
DEFAULT_WEBHOOK_ENV = "WARROOM_ALERT_WEBHOOK_URL"


class ConfigError(Exception):
    """The event file or the environment is invalid; the message names the field and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Watch(_Strict):
    """Something counted on its own line of the volume chart: the brand, a competitor or a term."""

    name: str = Field(min_length=1)
    keywords: list[str] = Field(min_length=1, description="lower-case phrases or #tags that count as a mention")
    weight: float = 1.0

    @field_validator("keywords")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [k.strip().lower() for k in v if k.strip()]


class Brand(_Strict):
    name: str = Field(min_length=1)
    handles: list[str] = []
    keywords: list[str] = Field(min_length=1)
    # Phrases that make a post more relevant to the brand team even without naming the brand.
    profile: dict[str, float] = {}

    @field_validator("keywords", "handles")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [k.strip().lower() for k in v if k.strip()]


class SimulatorSource(_Strict):
    enabled: bool = True
    rate: float = Field(default=150.0, ge=1, le=50_000, description="base posts per second")
    speedup: float = Field(default=24.0, gt=0, description="game seconds per wall second")
    seed: int = 42
    blackout_minute: float = Field(default=170.0, ge=0, description="game minute the stadium lights go out")
    blackout_minutes: float = Field(default=34.0, gt=0)
    start_minute: float = Field(default=0.0, ge=0, description="game minute the simulation starts at")
    loop: bool = True


class XSource(_Strict):
    enabled: bool = True
    mode: Literal["stream", "search"] = "stream"
    poll_seconds: float = Field(default=15.0, ge=1)


class BlueskySource(_Strict):
    enabled: bool = True


class MastodonSource(_Strict):
    enabled: bool = True
    hashtags: list[str] = []
    public: bool = False


class RssSource(_Strict):
    enabled: bool = True
    feeds: list[str] = []
    poll_seconds: float = Field(default=60.0, ge=5)


class RedditSource(_Strict):
    enabled: bool = False
    subreddits: list[str] = []


class Sources(_Strict):
    simulator: SimulatorSource = SimulatorSource()
    x: XSource = XSource()
    bluesky: BlueskySource = BlueskySource()
    mastodon: MastodonSource = MastodonSource()
    rss: RssSource = RssSource()
    reddit: RedditSource = RedditSource()


class Thresholds(_Strict):
    influencer_followers: int = Field(default=100_000, ge=0)
    feed_size: int = Field(default=300, ge=10, le=5000)
    feed_min_score: float = 0.0
    stale_after_s: float = Field(default=5.0, gt=0)
    trend_bucket_s: float = Field(default=5.0, gt=0)
    spike_z: float = 4.0
    spike_bin_s: float = Field(default=5.0, gt=0, description="volume is judged in bins this long")
    spike_half_life_s: float = Field(default=300.0, gt=0)
    spike_warmup_s: float = Field(default=60.0, ge=0)
    spike_cooldown_s: float = Field(default=180.0, ge=0)
    sentiment_drop: float = Field(default=0.25, gt=0)
    window_minutes: int = Field(default=15, ge=1, le=120)
    # Floors relative to the stream, so one event file works from 1 to 50,000 posts/s (docs/analytics.md).
    trend_min_count: float = Field(default=3, ge=1, description="a trending term is in at least this many posts")
    trend_min_share: float = Field(default=0.002, ge=0, le=1, description="... and this share of the window's posts")
    trend_min_z: float = Field(default=2.0, ge=0, description="significance below this is the term's own noise")
    spike_min_count: float = Field(default=5, ge=0, description="a spike bin holds at least this many posts")
    dip_z: float = Field(default=4.0, gt=0, description="a dip: counts per bin this many std below the baseline")
    dip_confirm: int = Field(default=2, ge=1, description="bins in a row below it (a pause is not a dip)")
    sentiment_min_posts: int = Field(default=8, ge=1, description="posts behind a sentiment drop and its baseline")
    sentiment_bin_min_posts: int = Field(default=3, ge=1, description="posts a sentiment bin needs to be charted")


class Backlog(_Strict):
    """The budget of posts waiting in the stream for the workers. Over it, ingest is held back (sources wait or
    buffer, POST /api/ingest answers 503 with Retry-After); nothing is trimmed before it is processed."""

    max_entries: int = Field(default=500_000, ge=1000, description="entries in posts:in (about 50 s at 10k/s)")
    max_memory_mb: float = Field(default=256.0, gt=0, description="memory of posts:in as the server measures it")


class ScheduleItem(_Strict):
    """An expected surge: at a wall-clock time (`at`, real events) or a game minute (the simulator's clock)."""

    name: str
    at: datetime | None = None
    minute: float | None = Field(default=None, ge=0, description="game minute from the start of coverage")
    minutes: float = Field(default=5.0, gt=0)
    expect_surge: bool = True

    @model_validator(mode="after")
    def _when(self) -> ScheduleItem:
        if (self.at is None) == (self.minute is None):
            raise ValueError("give exactly one of 'at' (ISO time) or 'minute' (game minute)")
        return self


class Guardrails(_Strict):
    banned_phrases: list[str] = []
    required_approvers: int = Field(default=1, ge=0)
    notes: str = ""


class AlertRule(_Strict):
    """Sensitivity of one alert rule; anything left out falls back to `thresholds` and `alerts.cooldown_s`."""

    enabled: bool = True
    threshold: float | None = Field(
        default=None,
        gt=0,
        description="spike/dip: z on counts per bin; sentiment_drop: the drop; influencer: followers",
    )
    cooldown_s: float | None = Field(default=None, ge=0)
    group_s: float | None = Field(
        default=None, ge=0, description="influencer/watch_word: signals this close join one alert that grows"
    )


ALERT_RULES = ("spike", "dip", "sentiment_drop", "influencer", "watch_word")


class Alerts(_Strict):
    watch_words: list[str] = ["outage", "recall", "lawsuit", "boycott"]
    webhook_url_env: str = DEFAULT_WEBHOOK_ENV
    cooldown_s: float = Field(default=120.0, ge=0)
    rules: dict[Literal["spike", "dip", "sentiment_drop", "influencer", "watch_word"], AlertRule] = {}

    def rule(self, kind: str) -> AlertRule:
        return self.rules.get(kind) or AlertRule()


class Oidc(_Strict):
    """Single sign-on through an OpenID Connect provider (off while `issuer` and `discovery_url` are empty)."""

    issuer: str = ""
    discovery_url: str = Field(default="", description="default: <issuer>/.well-known/openid-configuration")
    client_id: str = ""
    scope: str = "openid profile email"
    role_claim: str = Field(default="groups", description="claim holding the person's groups; dotted for nested")
    name_claim: str = "preferred_username"
    roles: dict[str, list[str]] = Field(default={}, description="claim value -> War Room roles")
    groups: dict[str, list[str]] = Field(default={}, description="claim value -> approver groups")
    label: str = "Sign in with single sign-on"

    @property
    def enabled(self) -> bool:
        return bool((self.issuer or self.discovery_url) and self.client_id)


class Auth(_Strict):
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    signin_failures_per_account: int = Field(default=5, ge=1)
    signin_failures_per_address: int = Field(default=20, ge=1)
    signin_window_s: int = Field(default=900, ge=1)
    oidc: Oidc = Oidc()


class Audit(_Strict):
    budget_mb: float = Field(default=256.0, gt=0, description="warn at 80 %; the trail is never trimmed")


# Publishing (issue 10): response templates, the approval chain and where posts may go. All optional.
NETWORKS = ("x", "bluesky", "mastodon")
Network = Literal["x", "bluesky", "mastodon"]
PLACEHOLDERS = ("brand", "handle", "moment")


class Template(_Strict):
    """A reusable response: `text` may use {brand}, {handle} (the framed post's author) and {moment}."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    name: str = Field(min_length=1)
    text: str = Field(min_length=1)
    networks: list[Network] = list(NETWORKS)
    tags: list[str] = []
    card_type: Literal["opportunity", "threat"] | None = Field(default=None, description="None: offered on both")
    pre_approved: bool = False
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @field_validator("tags")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [t.strip().lower() for t in v if t.strip()]

    @model_validator(mode="after")
    def _placeholders(self) -> Template:
        import string

        names = {f for _, f, _, _ in string.Formatter().parse(self.text) if f is not None}
        unknown = names - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"template {self.id!r}: unknown placeholder(s) {sorted(unknown)}; use {list(PLACEHOLDERS)}"
            )
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError(f"template {self.id!r}: valid_until must be after valid_from")
        return self


class ApprovalStep(_Strict):
    """One step of the chain: `any` member of `group` approves, or `all` of its listed members do."""

    name: str = Field(min_length=1)
    group: str = Field(min_length=1)
    mode: Literal["any", "all"] = "any"


class Approvals(_Strict):
    steps: list[ApprovalStep] = Field(default=[ApprovalStep(name="Brand lead", group="brand")], min_length=1)
    # Members per group, needed for `all` steps and for saying who can approve; sign-in supplies a user's groups.
    groups: dict[str, list[str]] = {}
    expire_minutes: float = Field(default=15.0, gt=0, description="an approval older than this no longer counts")
    fast_lane: bool = Field(default=True, description="a pre-approved template used unchanged needs one approver")
    sensitive_group: str = Field(default="legal", description="approves playful drafts during a sensitive moment")

    @model_validator(mode="after")
    def _all_steps_have_members(self) -> Approvals:
        for step in self.steps:
            if step.mode == "all" and not self.groups.get(step.group):
                raise ValueError(f"approval step {step.name!r} needs all of {step.group!r}: list its members in groups")
        return self


class Publishing(_Strict):
    mode: Literal["dry-run", "live"] = Field(default="dry-run", description="live also needs the network's credentials")
    networks: list[Network] = list(NETWORKS)
    topics_to_avoid: list[str] = []
    allowed_domains: list[str] = Field(default=[], description="links may only point here (and subdomains)")
    sensitive_words: list[str] = [
        "injury",
        "injured",
        "hurt",
        "safety",
        "tragedy",
        "emergency",
        "evacuation",
        "collapsed",
    ]
    all_caps_words: int = Field(default=3, ge=1, description="this many ALL CAPS words draw a warning")
    negative_tone: float = Field(default=-0.05, le=0, description="VADER compound at or below this warns")
    templates: list[Template] = []
    templates_file: str | None = Field(default=None, description="YAML list of templates, relative to the event file")
    approvals: Approvals = Approvals()

    @field_validator("topics_to_avoid", "sensitive_words", "allowed_domains")
    @classmethod
    def _lower(cls, v: list[str]) -> list[str]:
        return [t.strip().lower() for t in v if t.strip()]

    @model_validator(mode="after")
    def _unique_templates(self) -> Publishing:
        ids = [t.id for t in self.templates]
        dupes = {i for i in ids if ids.count(i) > 1}
        if dupes:
            raise ValueError(f"template ids must be unique; repeated: {sorted(dupes)}")
        return self


# Customer care (issue 12): what the care lane triages, its first-response targets and where misses escalate.
CARE_KINDS = ("safety", "complaint", "question", "praise")


class Care(_Strict):
    """Rules for triaging brand posts into care cases; phrases are lower-case, weights add up per kind."""

    enabled: bool = True
    safety: list[str] = ["injury", "injured", "allergic reaction", "food poisoning", "sharp", "recall"]
    complaint: dict[str, float] = {"broken": 2.0, "stale": 2.0, "refund": 2.0, "worst": 1.0, "hate": 1.0}
    question: dict[str, float] = {"where can i": 2.0, "how do i": 2.0, "does anyone know": 1.5}
    praise: dict[str, float] = {"love": 1.0, "best": 1.0, "thank you": 1.5}
    # A joke marker halves the complaint score: "I hate you for this ad lol" is not a complaint.
    joke_markers: list[str] = ["lol", "lmao", "jk", "not really", "😂", "🤣"]
    first_response_minutes: dict[str, float] = {"safety": 5.0, "complaint": 15.0, "question": 30.0}
    warn_fraction: float = Field(default=0.7, gt=0, lt=1, description="warn when this much of the target is gone")
    # Escalate to a named person or group, per kind ("default" for the rest).
    escalate_to: dict[str, str] = {"safety": "legal", "default": "care-lead"}
    # Replies: templates tagged "care" (and these), and a lighter approval chain (None: publishing.approvals).
    templates: list[Template] = []
    approvals: Approvals | None = None
    safety_approvals: Approvals | None = Field(default=None, description="None: publishing.approvals")

    @field_validator("safety", "joke_markers")
    @classmethod
    def _lower_list(cls, v: list[str]) -> list[str]:
        return [t.strip().lower() for t in v if t.strip()]

    @field_validator("complaint", "question", "praise")
    @classmethod
    def _lower_map(cls, v: dict[str, float]) -> dict[str, float]:
        return {k.strip().lower(): w for k, w in v.items() if k.strip()}

    @field_validator("first_response_minutes")
    @classmethod
    def _targets(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = set(v) - set(CARE_KINDS)
        if unknown:
            raise ValueError(f"first_response_minutes: unknown kind(s) {sorted(unknown)}; kinds are {CARE_KINDS}")
        if any(m <= 0 for m in v.values()):
            raise ValueError("first_response_minutes must be positive")
        return v

    def target_s(self, kind: str) -> float | None:
        m = self.first_response_minutes.get(kind)
        return m * 60.0 if m else None

    def escalation_target(self, kind: str) -> str:
        return self.escalate_to.get(kind) or self.escalate_to.get("default") or "care-lead"


class Wall(_Strict):
    """The wall screen (layouts/wall.py): which views it rotates through, how fast, how long an alert holds it."""

    views: list[Literal["overview", "spotlight", "storylines", "brands"]] = Field(
        default=["overview", "spotlight", "storylines", "brands"], min_length=1
    )
    rotate_s: float = Field(default=20.0, ge=3, description="seconds each view stays on the wall")
    takeover_s: float = Field(default=30.0, ge=0, description="a critical alert holds the whole wall this long")


class Archive(_Strict):
    """What outlives the event (archive/): per-minute files under var/archive/<event id>/."""

    every_s: float = Field(default=60.0, ge=1, description="how often the archiver writes")
    retention_days: float = Field(default=90.0, gt=0, description="part files older than this are deleted")
    posts_per_minute: int = Field(default=40, ge=0, description="top feed posts kept each time it writes")


class EventConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$", description="short slug used in Redis keys")
    name: str
    brand: Brand
    competitors: list[Watch] = []
    terms: list[Watch] = []
    hashtags: list[str] = []
    sources: Sources = Sources()
    thresholds: Thresholds = Thresholds()
    backlog: Backlog = Backlog()
    schedule: list[ScheduleItem] = []
    guardrails: Guardrails = Guardrails()
    alerts: Alerts = Alerts()
    auth: Auth = Auth()
    audit: Audit = Audit()
    publishing: Publishing = Publishing()
    care: Care = Care()
    wall: Wall = Wall()
    archive: Archive = Archive()
    partitions: int = Field(
        1,
        ge=1,
        le=64,
        description="hash-tag partitions of the stream and hot counters: spread one event over a cluster's primaries",
    )

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return [t.lower().lstrip("#") for t in v]

    @model_validator(mode="after")
    def _unique_series(self) -> EventConfig:
        names = [self.brand.name] + [w.name for w in self.competitors] + [w.name for w in self.terms]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"brand, competitor and term names must be unique; repeated: {sorted(dupes)}")
        return self

    def watches(self) -> list[tuple[str, Watch | Brand]]:
        """Every volume series: ("brand"|"competitor"|"term", watch)."""
        out: list[tuple[str, Watch | Brand]] = [("brand", self.brand)]
        out += [("competitor", w) for w in self.competitors]
        out += [("term", w) for w in self.terms]
        return out


def load_event(path: str | Path) -> EventConfig:
    """Read and validate an event file; raise ConfigError naming the bad field."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"event file {path} not found; set WARROOM_EVENT or see config/superbowl.yaml") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"event file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"event file {path}: expected a mapping at the top level; see config/superbowl.yaml")
    try:
        return EventConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"event file {path}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"'{where}': {err['msg']}")
    return "; ".join(parts) + " (see config/superbowl.yaml for a valid example)"


# Environment settings: (name, default, help). The README's table is checked against this list.
ENV_VARS: list[tuple[str, str, str]] = [
    ("REDIS_URL", "", "use this Redis/Valkey instead of starting the embedded server; redis+cluster://… for a cluster"),
    ("PORT", "8050", "dashboard port"),
    ("HOST", "127.0.0.1", "dashboard bind address"),
    ("WARROOM_PUSH_PORT", "auto", "screen push (WebSocket) port: auto is PORT+1, 0 turns push off (screens poll)"),
    ("WARROOM_PUSH_CONNECTIONS_PER_ADDRESS", "500", "open push sockets from one client address; beyond it they poll"),
    ("WARROOM_EVENT", "config/superbowl.yaml", "event file to load"),
    ("WARROOM_VAR", "var", "folder for the embedded server's data and logs"),
    ("WARROOM_WORKERS", "2", "processor worker processes started by `up`"),
    ("WARROOM_TICK_S", "0.4", "aggregator tick in seconds"),
    ("WARROOM_AGGREGATORS", "1", "aggregators started by `up`: one writes snapshots, the others stand by for it"),
    ("WARROOM_WEB_PROCESSES", "1", "web processes started by `up`, sharing PORT (SO_REUSEPORT) and their answers"),
    ("WARROOM_INGEST_TOKEN", "", "bearer token for POST /api/ingest (ingest is off when empty)"),
    ("X_BEARER_TOKEN", "", "X API v2 app token"),
    ("X_API_BASE_URL", "https://api.x.com", "X API host (tests, proxies)"),
    ("BLUESKY_JETSTREAM_URL", "wss://jetstream2.us-east.bsky.network/subscribe", "Jetstream endpoint"),
    ("MASTODON_BASE_URL", "", "Mastodon instance, e.g. https://mastodon.social"),
    ("MASTODON_ACCESS_TOKEN", "", "Mastodon access token"),
    ("REDDIT_CLIENT_ID", "", "Reddit app id"),
    ("REDDIT_CLIENT_SECRET", "", "Reddit app secret"),
    ("WARROOM_ALERT_WEBHOOK_URL", "", "Slack incoming webhook or any URL that takes a JSON POST"),
    ("WARROOM_BASE_URL", "", "public URL of the dashboard, for sign-in and kiosk links (default http://HOST:PORT)"),
    ("WARROOM_COOKIE_SECURE", "auto", "Secure cookies: auto (when the request is HTTPS), 1 or 0"),
    ("WARROOM_PROXY_HOPS", "0", "trusted reverse proxies in front (X-Forwarded-For/-Proto/-Host)"),
    ("WARROOM_OIDC_CLIENT_SECRET", "", "OpenID Connect client secret (see docs/security.md)"),
    # Publishing (live only with `publishing.mode: live` in the event file; dry-run otherwise)
    ("X_API_KEY", "", "X app key (OAuth 1.0a user context, to post)"),
    ("X_API_SECRET", "", "X app secret"),
    ("X_ACCESS_TOKEN", "", "X access token of the brand account"),
    ("X_ACCESS_TOKEN_SECRET", "", "X access token secret"),
    ("BLUESKY_HANDLE", "", "Bluesky handle that posts"),
    ("BLUESKY_APP_PASSWORD", "", "Bluesky app password"),
    ("BLUESKY_PDS_URL", "https://bsky.social", "Bluesky PDS to sign in to (tests, self-hosted)"),
    ("MASTODON_PUBLISH_TOKEN", "", "Mastodon token with write:statuses (posts to MASTODON_BASE_URL)"),
]

SECRET_VARS = {
    "REDIS_URL",
    "WARROOM_INGEST_TOKEN",
    "X_BEARER_TOKEN",
    "MASTODON_ACCESS_TOKEN",
    "REDDIT_CLIENT_SECRET",
    "WARROOM_ALERT_WEBHOOK_URL",
    "WARROOM_OIDC_CLIENT_SECRET",
    "X_API_KEY",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
    "BLUESKY_APP_PASSWORD",
    "MASTODON_PUBLISH_TOKEN",
}


@dataclass(frozen=True)
class Settings:
    """Everything a process needs, loaded once at the edge and passed down."""

    event: EventConfig
    env: dict[str, str] = field(repr=False)
    event_path: Path = DEFAULT_EVENT

    def get(self, name: str) -> str:
        return self.env.get(name, "")

    @property
    def port(self) -> int:
        return int(self.get("PORT"))

    @property
    def push_port(self) -> int:
        """The push server's port (web/push.py), 0 when screens only poll."""
        value = self.get("WARROOM_PUSH_PORT") or "auto"
        return self.port + 1 if value == "auto" else int(value)

    @property
    def push_connections_per_address(self) -> int:
        """Open push sockets one client address may hold (web/push.py); more are refused (429) and poll."""
        return int(self.get("WARROOM_PUSH_CONNECTIONS_PER_ADDRESS") or 500)

    @property
    def var_dir(self) -> Path:
        p = Path(self.get("WARROOM_VAR"))
        return p if p.is_absolute() else ROOT / p

    @property
    def tick_s(self) -> float:
        return float(self.get("WARROOM_TICK_S"))

    @property
    def workers(self) -> int:
        return int(self.get("WARROOM_WORKERS"))

    @property
    def aggregators(self) -> int:
        return int(self.get("WARROOM_AGGREGATORS"))

    @property
    def web_processes(self) -> int:
        return int(self.get("WARROOM_WEB_PROCESSES"))

    @property
    def alert_webhook(self) -> tuple[str, str]:
        """(variable, URL) of the alert webhook: the event file's `alerts.webhook_url_env`, else the default one."""
        for name in (self.event.alerts.webhook_url_env, DEFAULT_WEBHOOK_ENV):
            if url := self.get(name):
                return name, url
        return DEFAULT_WEBHOOK_ENV, ""

    @property
    def alert_webhook_url(self) -> str:
        return self.alert_webhook[1]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    env = {name: environ.get(name) or default for name, default, _ in ENV_VARS}
    for name, cast in (
        ("PORT", int),
        ("WARROOM_WORKERS", int),
        ("WARROOM_AGGREGATORS", int),
        ("WARROOM_WEB_PROCESSES", int),
        ("WARROOM_PUSH_CONNECTIONS_PER_ADDRESS", int),
        ("WARROOM_TICK_S", float),
    ):
        try:
            if cast(env[name]) <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"environment variable {name}={env[name]!r} must be a positive number") from None
    push = env["WARROOM_PUSH_PORT"]
    if push != "auto" and not (push.isdigit() and int(push) < 65536):
        raise ConfigError(f"environment variable WARROOM_PUSH_PORT={push!r} must be auto, 0 (off) or a port")
    event_path = Path(env["WARROOM_EVENT"])
    if not event_path.is_absolute():
        event_path = ROOT / event_path
    event = load_event(event_path)
    # The event file may name its own webhook variable: keep it, or the aggregator would never see it.
    hook_env = event.alerts.webhook_url_env
    env.setdefault(hook_env, environ.get(hook_env) or "")
    settings = Settings(event=event, env=env, event_path=event_path)
    _check_webhook(*settings.alert_webhook)
    return settings


def _check_webhook(name: str, url: str) -> None:
    """A webhook URL that cannot work stops start-up with one line, instead of crash-looping the aggregator."""
    if not url:
        return
    try:
        parts = urlsplit(url)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # e.g. a bad port or an unclosed IPv6 bracket
        ok = False
    if not ok or any(c.isspace() for c in url):
        # The URL is a secret (a Slack webhook is its own credential): name the variable, never echo the value.
        raise ConfigError(
            f"environment variable {name} must be an http:// or https:// URL with a host (value not shown)"
        )


def redact(text: str, settings: Settings) -> str:
    """Remove every secret value from a string before it is logged (a URL's password on its own too)."""
    for value in secret_values(settings):
        text = text.replace(value, "***")
    return text


def secret_values(settings: Settings) -> list[str]:
    values = [settings.get(name) for name in SECRET_VARS | {settings.event.alerts.webhook_url_env}]
    values += [urlsplit(v).password or "" for v in values if v and "://" in v]
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)
