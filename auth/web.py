"""Flask integration: sign-in pages, the session cookie, CSRF and one guard in front of every request.

    auth = install(app.server, r, keys, settings, settings.var_dir)
    ident = current_identity()           # in a callback or route: Identity | None
    roles.require(ident, "card.create")  # raises Forbidden -> 403

The guard runs before every other `before_request` hook (the screen response cache included):

- open: /login, /logout, /signed-out, /kiosk/<t>, /auth/..., /api/health, /api/ingest (its own bearer token);
- pages without a session -> 302 /login; `/_dash-*` and `/api/*` without one -> 401 JSON;
- a page the identity's roles do not cover -> 302 to its home page (a wall screen always lands on /wall);
- GET /api/* also takes `Authorization: Bearer wrt_...` (API token, per scope, read-only);
- every state-changing request needs the session's CSRF token (header X-CSRFToken, which Dash's renderer
  sends from the `_csrf_token` cookie, or a form field `csrf`) and a same-origin Origin header if any.

A session is re-checked against the store on every request (auth/signin.py), so revoking a kiosk link,
disabling a user or rotating the secret takes effect at the next request.
"""

from __future__ import annotations

import hmac
import html
import logging
import os
import secrets
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

import flask
import orjson
import redis
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from werkzeug.middleware.proxy_fix import ProxyFix

from auth import roles as role_table
from auth.identity import KIOSK, TOKEN, USER, Identity
from auth.limits import Limits, SigninLimiter
from auth.roles import Forbidden
from auth.signin import Result, Signin
from config.settings import Settings
from store import audit, sessions, tokens
from store.keys import Keys

logger = logging.getLogger(__name__)

SECRET_FILE = "session_secret"
SESSION_COOKIE = "warroom_session"
CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads; it sends the value as X-CSRFToken
CSRF_HEADER = "X-CSRFToken"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_EXACT = frozenset({"/login", "/logout", "/signed-out", "/api/health", "/api/ingest"})
OPEN_PREFIXES = ("/kiosk/", "/auth/")
PAGES = {
    "/": role_table.VIEW_ROOM,
    "/wall": role_table.VIEW_WALL,
    "/exec": role_table.VIEW_EXEC,
    "/audit": role_table.VIEW_AUDIT,
    "/admin": role_table.USER_MANAGE,
}
# Served to the page once it is allowed; nothing in them is a secret, but nothing is served to strangers.
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico")


# The session secret ------------------------------------------------------------------------------------------


def secret_path(var_dir: Path) -> Path:
    return Path(var_dir) / SECRET_FILE


def load_secret(var_dir: Path) -> bytes:
    """The session secret in var/session_secret (0600), generated on first use."""
    path = secret_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


def rotate_secret(r: redis.Redis, keys: Keys, var_dir: Path, *, actor) -> int:
    """A new session secret, and a new epoch in the store: everyone is signed out at their next request."""
    path = secret_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_hex(32).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return sessions.bump_epoch(r, keys, actor=actor, detail="session secret rotated: everyone signed out")


# Settings ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebAuthSettings:
    cookie_secure: str = "auto"  # "auto": Secure when the request came over HTTPS (behind a proxy: X-Forwarded-Proto)
    proxy_hops: int = 0
    base_url: str = ""
    session_ttl_s: int = sessions.USER_TTL_S
    limits: Limits = Limits()
    audit_budget_bytes: int = 256 * 1024 * 1024
    title: str = "War Room"

    @classmethod
    def from_settings(cls, settings: Settings) -> WebAuthSettings:
        auth = settings.event.auth
        secure = (settings.get("WARROOM_COOKIE_SECURE") or "auto").strip().lower()
        if secure not in ("auto", "1", "0", "true", "false"):
            raise ValueError(f"WARROOM_COOKIE_SECURE={secure!r}: use auto, 1 or 0")
        return cls(
            cookie_secure={"true": "1", "false": "0"}.get(secure, secure),
            proxy_hops=int(settings.get("WARROOM_PROXY_HOPS") or 0),
            base_url=base_url(settings),
            session_ttl_s=int(auth.session_hours * 3600),
            limits=Limits(auth.signin_failures_per_account, auth.signin_failures_per_address, auth.signin_window_s),
            audit_budget_bytes=int(settings.event.audit.budget_mb * 1024 * 1024),
            title=f"War Room · {settings.event.name}",
        )


def base_url(settings: Settings) -> str:
    """Where people reach the dashboard: WARROOM_BASE_URL, else http://HOST:PORT."""
    explicit = settings.get("WARROOM_BASE_URL").rstrip("/")
    if explicit:
        return explicit
    host = settings.get("HOST") or "127.0.0.1"
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{settings.port}"


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, with Secure decided per request when WARROOM_COOKIE_SECURE=auto."""

    def __init__(self, secure: str):
        self.secure = secure

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        if self.secure == "auto":
            return flask.request.is_secure if flask.has_request_context() else False
        return self.secure == "1"


class CookieReader:
    """Who a raw Cookie header belongs to outside a Flask request (the push server's handshake and its re-checks):
    the guard's secret, cookie format and store check, so a socket is open to exactly who a request would be."""

    def __init__(self, r: redis.Redis, keys: Keys, var_dir: Path):
        self.var_dir = Path(var_dir)
        self.app = flask.Flask("warroom-cookies")
        self.app.secret_key = load_secret(self.var_dir)
        self.signin = Signin(r, keys)
        self.epoch = self.signin.epoch()

    def lookup(self, cookie_header: str, address: str = "") -> tuple[Identity | None, str | None]:
        """(identity, CSRF token) of the session cookie in `cookie_header`, or (None, None)."""
        jar = SimpleCookie()
        try:
            jar.load(cookie_header or "")
        except CookieError:
            return None, None
        if SESSION_COOKIE not in jar:
            return None, None
        for _ in range(2):  # once more with the new secret if another process rotated it
            try:
                data = _SessionInterface("0").get_signing_serializer(self.app).loads(jar[SESSION_COOKIE].value)
            except BadSignature:
                data = {}
            epoch, ident, csrf = self.signin.lookup(data.get("sid"), data.get("k"), data.get("s"), address)
            if epoch == self.epoch:
                return ident, csrf
            self.app.secret_key, self.epoch = load_secret(self.var_dir), epoch
        return None, None


# The integration ---------------------------------------------------------------------------------------------


def current_identity() -> Identity | None:
    """Who is asking (set by the guard for this request), or None."""
    return flask.g.get("identity") if flask.has_request_context() else None


class Auth:
    def __init__(
        self, server: flask.Flask, r: redis.Redis, keys: Keys, settings: Settings, var_dir: Path, web: WebAuthSettings
    ):
        self.server, self.r, self.keys, self.settings, self.var_dir, self.web = (
            server,
            r,
            keys,
            settings,
            Path(var_dir),
            web,
        )
        self.signin = Signin(r, keys, SigninLimiter(r, keys, web.limits), web.session_ttl_s)
        self.epoch = self.signin.epoch()
        self.oidc = None
        oidc_config = settings.event.auth.oidc
        if oidc_config.enabled:
            from auth.oidc import OidcClient

            self.oidc = OidcClient(server, oidc_config, settings.get("WARROOM_OIDC_CLIENT_SECRET"))

    # Secret -------------------------------------------------------------------------------------------------

    def sync_secret(self, epoch: int) -> None:
        """Another process rotated the secret (the epoch moved): sign with the new one from now on."""
        if epoch != self.epoch:
            self.server.secret_key = load_secret(self.var_dir)
            self.epoch = epoch

    # Sessions -----------------------------------------------------------------------------------------------

    def address(self) -> str:
        return flask.request.remote_addr or ""

    def resolve_cookie(self) -> tuple[Identity | None, str | None]:
        s = flask.session
        sid, kind, subject = s.get("sid"), s.get("k"), s.get("s")
        if not sid:
            return None, None
        epoch, ident, csrf = self.signin.lookup(sid, kind, subject, self.address())
        self.sync_secret(epoch)
        if ident is None:
            for k in ("sid", "k", "s"):
                s.pop(k, None)
        return ident, csrf

    def bearer(self) -> Identity | None:
        header = flask.request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        record = tokens.verify_api_token(self.r, self.keys, header[7:].strip())
        if record is None:
            return None
        return Identity(
            name=f"token:{record['name']}",
            roles=frozenset(),
            kind=TOKEN,
            address=self.address(),
            scopes=frozenset(record["scopes"]),
        )

    def start_session(self, result: Result, target: str) -> flask.Response:
        self.sync_secret(self.signin.epoch())
        flask.session.clear()
        flask.session["sid"] = result.session_id
        flask.session["k"] = result.identity.kind
        ident = result.identity
        flask.session["s"] = ident.name if ident.kind == USER else ident.name.split(":", 1)[1]
        flask.session.permanent = True
        flask.g.identity, flask.g.csrf = result.identity, result.csrf
        return flask.redirect(target, 303)

    # Guard --------------------------------------------------------------------------------------------------

    def guard(self) -> flask.Response | None:
        req = flask.request
        path = req.path
        flask.g.identity = flask.g.csrf = None
        if path in OPEN_EXACT or path.startswith(OPEN_PREFIXES):
            if path in ("/logout", "/api/health"):  # health shows details to a signed-in person only
                flask.g.identity, flask.g.csrf = self.resolve_cookie()
                if path == "/api/health" and flask.g.identity is None:
                    flask.g.identity = self.bearer()  # ... or to a tool with an API token
            return None
        ident, csrf = self.resolve_cookie()
        api = path.startswith("/api/")
        if ident is None and api and req.method in SAFE_METHODS:
            ident = self.bearer()
        if ident is None:
            return self.refuse(path)
        flask.g.identity, flask.g.csrf = ident, csrf
        if req.method not in SAFE_METHODS:
            if ident.kind == TOKEN:
                return _json({"error": "API tokens are read-only"}, 403)
            if not self.csrf_ok(csrf):
                return _json({"error": "missing or wrong CSRF token: reload the page"}, 403)
        if api:
            return self.api_allowed(ident, path)
        if path.startswith("/_dash-") or path.startswith(STATIC_PREFIXES):
            return None
        need = PAGES.get(path.rstrip("/") or "/", role_table.VIEW_ROOM)
        if not role_table.may(ident, need):
            home = role_table.home(ident.roles)
            if home != path and role_table.may(ident, PAGES.get(home, role_table.VIEW_ROOM)):
                return flask.redirect(home, 303)
            return flask.Response(
                _page("Not for this role", "<p>Your role cannot open this page.</p>", self.web.title), 403
            )
        return None

    def api_allowed(self, ident: Identity, path: str) -> flask.Response | None:
        audit_path = path == "/api/audit" or path.startswith("/api/audit/")
        if path == "/api/me":
            return None
        if ident.kind == TOKEN:
            scope = "audit" if audit_path else "read"
            return None if scope in ident.scopes else _json({"error": f"this token lacks the {scope!r} scope"}, 403)
        need = role_table.VIEW_AUDIT if audit_path else role_table.VIEW_API
        return None if role_table.may(ident, need) else _json({"error": f"your role may not {need}"}, 403)

    def refuse(self, path: str) -> flask.Response:
        if path.startswith(("/_dash-", "/api/")) or flask.request.method not in SAFE_METHODS:
            return _json({"error": "sign in first", "signed_out": True}, 401)
        if path.startswith(STATIC_PREFIXES):
            return _json({"error": "sign in first"}, 401)
        return flask.redirect(f"/login?next={_safe_next(flask.request.full_path)}", 303)

    def csrf_ok(self, expected: str | None) -> bool:
        req = flask.request
        origin = req.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != req.host:
            return False
        given = req.headers.get(CSRF_HEADER) or req.form.get("csrf", "")
        return bool(expected and given and hmac.compare_digest(expected, given))

    def after(self, response: flask.Response) -> flask.Response:
        csrf = flask.g.get("csrf")
        if csrf and flask.request.cookies.get(CSRF_COOKIE) != csrf:
            response.set_cookie(
                CSRF_COOKIE,
                csrf,
                httponly=False,
                samesite="Lax",
                secure=self.server.session_interface.get_cookie_secure(self.server),
                path="/",
            )
        if flask.g.get("signed_out"):
            response.delete_cookie(CSRF_COOKIE, path="/")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if flask.request.path in OPEN_EXACT or flask.request.path.startswith(OPEN_PREFIXES):
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    # Pre-session CSRF (sign-in forms) -----------------------------------------------------------------------

    def form_token(self) -> str:
        token = flask.session.get("form_csrf")
        if not token:
            token = flask.session["form_csrf"] = secrets.token_urlsafe(24)
        return token

    def form_ok(self) -> bool:
        expected = flask.session.get("form_csrf")
        given = flask.request.form.get("csrf", "")
        origin = flask.request.headers.get("Origin")
        if origin and origin != "null" and urlsplit(origin).netloc != flask.request.host:
            return False
        return bool(expected and given and hmac.compare_digest(expected, given))


def install(server: flask.Flask, r: redis.Redis, keys: Keys, settings: Settings, var_dir: Path) -> Auth:
    """Protect `server`: one call from the app factory. Returns the Auth object (kept as server.extensions["warroom_auth"])."""
    web = WebAuthSettings.from_settings(settings)
    if web.proxy_hops > 0:
        hops = web.proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    server.secret_key = load_secret(var_dir)
    server.session_interface = _SessionInterface(web.cookie_secure)
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=sessions.KIOSK_TTL_S,
    )
    auth = Auth(server, r, keys, settings, var_dir, web)
    server.before_request_funcs.setdefault(None, []).insert(0, auth.guard)
    server.after_request(auth.after)
    server.register_error_handler(Forbidden, lambda exc: _json({"error": str(exc)}, 403))
    _routes(server, auth)
    server.extensions["warroom_auth"] = auth
    return auth


# Routes ------------------------------------------------------------------------------------------------------


def _routes(server: flask.Flask, auth: Auth) -> None:
    title = auth.web.title

    @server.get("/login")
    def login_page():
        return _login(auth, title)

    @server.post("/login")
    def login_post():
        if not auth.form_ok():
            return _login(auth, title, "This form expired; try again.", 403)
        form = flask.request.form
        result = auth.signin.password(form.get("name", ""), form.get("password", ""), auth.address())
        if not result.ok:
            response = _login(
                auth, title, result.error, 429 if result.retry_after_s else 401, name=form.get("name", "")
            )
            if result.retry_after_s:
                response.headers["Retry-After"] = str(result.retry_after_s)
            return response
        return auth.start_session(result, _target(form.get("next"), result.identity))

    @server.get("/logout")
    def logout_page():
        ident, csrf = flask.g.identity, flask.g.csrf
        if ident is None:
            return flask.redirect("/login", 303)
        body = f"""<p>Signed in as <b>{_e(ident.display or ident.name)}</b>.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{_e(csrf)}">
<button type="submit">Sign out</button></form>"""
        return flask.Response(_page("Sign out", body, title), 200)

    @server.post("/logout")
    def logout_post():
        ident = flask.g.identity
        if ident is not None:
            if not auth.csrf_ok(flask.g.csrf):
                return _json({"error": "missing or wrong CSRF token"}, 403)
            if ident.kind == KIOSK:
                return _json({"error": "a wall screen is signed out by revoking its kiosk link"}, 403)
            auth.signin.sign_out(ident)
        flask.session.clear()
        flask.g.csrf, flask.g.signed_out = None, True
        return flask.redirect("/login", 303)

    @server.get("/signed-out")
    def signed_out():
        body = "<p>This screen was signed out. An admin can give it a new kiosk link.</p>"
        return flask.Response(_page("Signed out", body, title), 200)

    @server.route("/kiosk/<token>", methods=["GET", "POST"])
    def kiosk(token: str):
        if flask.request.method == "GET":
            link = tokens.kiosk_for_token(auth.r, auth.keys, token)
            if link is None or link["revoked_at"] or link["claimed_at"]:
                return flask.Response(_page("Kiosk link", "<p>This kiosk link is not valid any more.</p>", title), 404)
            body = f"""<p>Make this browser the wall screen <b>{_e(link["screen"])}</b>? It stays signed in (read-only)
until an admin revokes the link. The link works once.</p>
<form method="post"><input type="hidden" name="csrf" value="{_e(auth.form_token())}">
<button type="submit">Make this the wall</button></form>"""
            return flask.Response(_page("Kiosk link", body, title), 200)
        if not auth.form_ok():
            return flask.Response(_page("Kiosk link", "<p>This form expired; open the link again.</p>", title), 403)
        result = auth.signin.kiosk(token, auth.address())
        if not result.ok:
            return flask.Response(_page("Kiosk link", f"<p>{_e(result.error)}</p>", title), 403)
        return auth.start_session(result, "/wall")

    @server.route("/auth/link/<token>", methods=["GET", "POST"])
    def signin_link(token: str):
        if flask.request.method == "GET":
            return _link_page(auth, title, "")
        if not auth.form_ok():
            return _link_page(auth, title, "This form expired; try again.", 403)
        form = flask.request.form
        new_password = form.get("password") or None
        if new_password and new_password != form.get("password2"):
            return _link_page(auth, title, "The two passwords differ.", 400)
        result = auth.signin.link(token, auth.address(), new_password)
        if not result.ok:
            return _link_page(auth, title, result.error, 400 if result.needs_password else 403)
        return auth.start_session(result, role_table.home(result.identity.roles))

    @server.get("/auth/oidc/login")
    def oidc_login():
        if auth.oidc is None:
            return flask.Response(_page("Single sign-on", "<p>Single sign-on is not configured.</p>", title), 404)
        flask.session["oidc_next"] = _safe_next(flask.request.args.get("next", "/"))
        return auth.oidc.redirect(auth.web.base_url + "/auth/oidc/callback")

    @server.get("/auth/oidc/callback")
    def oidc_callback():
        if auth.oidc is None:
            return flask.Response(_page("Single sign-on", "<p>Single sign-on is not configured.</p>", title), 404)
        from auth.oidc import map_claims, user_name

        try:
            claims = auth.oidc.finish()
        except Exception as exc:  # noqa: BLE001 - any failure of the provider's answer refuses the sign-in
            logger.warning("single sign-on failed: %s", type(exc).__name__)
            audit.record(
                auth.r,
                auth.keys,
                audit.entry(
                    "oidc", "signin.failure", "user", "", address=auth.address(), detail=f"oidc: {type(exc).__name__}"
                ),
            )
            return flask.Response(_page("Single sign-on", "<p>Single sign-on failed; try again.</p>", title), 403)
        config = auth.oidc.config
        roles, groups = map_claims(config, claims)
        subject = f"{claims.get('iss', config.issuer)}|{claims['sub']}"
        name = user_name(config, claims)
        result = auth.signin.oidc(subject, name, roles, groups, str(claims.get("name") or name), auth.address())
        if not result.ok:
            return flask.Response(_page("Single sign-on", f"<p>{_e(result.error)}</p>", title), 403)
        target = _target(flask.session.pop("oidc_next", None), result.identity)
        return auth.start_session(result, target)

    @server.get("/api/me")
    def api_me():
        ident = current_identity()
        return _json({**ident.public(), "signed_in": True}, 200)

    @server.get("/api/audit")
    def api_audit():
        args = flask.request.args
        try:
            items = audit.query(
                auth.r,
                auth.keys,
                who=args.get("who") or None,
                action=args.get("action") or None,
                obj=args.get("object") or None,
                since=float(args["since"]) if args.get("since") else None,
                until=float(args["until"]) if args.get("until") else None,
                limit=min(int(args.get("limit") or 1000), 100_000),
            )
        except ValueError:
            return _json({"error": "since/until are epoch seconds, limit an integer"}, 400)
        if args.get("format") == "csv":
            return flask.Response(
                audit.to_csv(items),
                mimetype="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="audit-{auth.keys.event_id}-{int(time.time())}.csv"'
                },
            )
        return flask.Response(audit.to_jsonl(items), mimetype="application/x-ndjson")

    @server.get("/api/audit/size")
    def api_audit_size():
        return _json(audit.size(auth.r, auth.keys, auth.web.audit_budget_bytes), 200)


def _target(next_path: str | None, ident: Identity) -> str:
    home = role_table.home(ident.roles)
    path = _safe_next(next_path or "")
    if path in ("", "/login") or not role_table.may(ident, PAGES.get(urlsplit(path).path, role_table.VIEW_ROOM)):
        return home
    return path


def _safe_next(path: str) -> str:
    """Only a path on this site (no scheme, no //host): an open redirect would make phishing easy."""
    path = (path or "").strip()
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path.rstrip("?") or "/"


def _e(text) -> str:
    return html.escape(str(text or ""), quote=True)


def _json(body: dict, status: int) -> flask.Response:
    return flask.Response(orjson.dumps(body), status=status, mimetype="application/json")


_STYLE = """
:root{color-scheme:dark}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#0d1117;color:#e6edf3;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
main{width:min(380px,92vw);background:#161b22;border:1px solid #30363d;border-radius:10px;padding:28px}
h1{font-size:20px;margin:0 0 4px}.sub{color:#8b949e;margin:0 0 18px;font-size:14px}
label{display:block;font-size:14px;color:#8b949e;margin:12px 0 4px}
input{box-sizing:border-box;width:100%;padding:9px 10px;border-radius:6px;border:1px solid #30363d;background:#0d1117;color:#e6edf3;font-size:16px}
button,.sso{display:block;width:100%;box-sizing:border-box;margin-top:18px;padding:10px;border:0;border-radius:6px;
background:#238636;color:#fff;font-size:16px;cursor:pointer;text-align:center;text-decoration:none}
.sso{background:#1f6feb}.error{background:#3d1214;border:1px solid #f85149;color:#ffa198;padding:8px 10px;border-radius:6px}
hr{border:0;border-top:1px solid #30363d;margin:20px 0}
"""


def _page(heading: str, body: str, title: str) -> str:
    return f"""<!doctype html><html lang="en" data-bs-theme="dark"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>{_e(heading)} · {_e(title)}</title><style>{_STYLE}</style></head>
<body><main><h1>{_e(heading)}</h1><p class="sub">{_e(title)}</p>{body}</main></body></html>"""


def _login(auth: Auth, title: str, error: str = "", status: int = 200, name: str = "") -> flask.Response:
    next_path = _safe_next(flask.request.values.get("next", "/"))
    err = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    sso = ""
    if auth.oidc is not None:
        sso = f'<hr><a class="sso" href="/auth/oidc/login?next={_e(next_path)}">{_e(auth.oidc.config.label)}</a>'
    body = f"""{err}<form method="post" action="/login">
<input type="hidden" name="csrf" value="{_e(auth.form_token())}"><input type="hidden" name="next" value="{_e(next_path)}">
<label for="name">Name</label><input id="name" name="name" autocomplete="username" value="{_e(name)}" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>{sso}"""
    return flask.Response(_page("Sign in", body, title), status)


def _link_page(auth: Auth, title: str, error: str, status: int = 200) -> flask.Response:
    err = f'<p class="error" role="alert">{_e(error)}</p>' if error else ""
    body = f"""{err}<p>This link signs you in once. If your account has no password yet, choose one (12 characters or more).</p>
<form method="post"><input type="hidden" name="csrf" value="{_e(auth.form_token())}">
<label for="password">New password</label><input id="password" name="password" type="password" autocomplete="new-password">
<label for="password2">Again</label><input id="password2" name="password2" type="password" autocomplete="new-password">
<button type="submit">Sign in</button></form>"""
    return flask.Response(_page("One-time sign-in", body, title), status)
