"""Single sign-on through an OpenID Connect provider (authlib's Flask client): claims -> roles and groups.

Configured in the event file (`auth.oidc`: issuer, client id, role claim and its mapping) with the client
secret in WARROOM_OIDC_CLIENT_SECRET. The provider's id_token is verified by authlib (signature from the
provider's JWKS, issuer, audience, expiry, nonce); a person whose claims map to no role is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import flask
from authlib.integrations.flask_client import OAuth

from auth.roles import parse_groups, parse_roles
from config.settings import Oidc

CLIENT = "warroom"


def claim(claims: dict, path: str) -> Any:
    """A claim by dotted path ("realm_access.roles" for Keycloak)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _values(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [v for v in raw.replace(",", " ").split() if v]
    if isinstance(raw, Iterable):
        return [str(v) for v in raw]
    return [str(raw)]


def map_claims(config: Oidc, claims: dict) -> tuple[list[str], list[str]]:
    """(roles, approver groups) the role claim's values map to; unknown values are ignored."""
    values = _values(claim(claims, config.role_claim))
    roles = parse_roles(r for v in values for r in config.roles.get(v, []))
    groups = parse_groups(g for v in values for g in config.groups.get(v, []))
    return roles, groups


def user_name(config: Oidc, claims: dict) -> str:
    """A War Room user name from the name claim (e-mail addresses keep their @), else from the subject."""
    raw = str(claim(claims, config.name_claim) or claims.get("email") or claims["sub"]).strip().lower()
    keep = "".join(c if c.isalnum() or c in "._@-" else "-" for c in raw)
    return keep.strip("-._@")[:64] or "oidc-user"


class OidcClient:
    """Registers the provider on a Flask app and runs the authorization-code flow."""

    def __init__(self, server: flask.Flask, config: Oidc, client_secret: str):
        self.config = config
        self.oauth = OAuth(server)
        discovery = config.discovery_url or config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        self.oauth.register(
            name=CLIENT,
            client_id=config.client_id,
            client_secret=client_secret,
            server_metadata_url=discovery,
            client_kwargs={"scope": config.scope, "code_challenge_method": "S256"},
        )
        self.client = getattr(self.oauth, CLIENT)

    def redirect(self, callback_url: str) -> flask.Response:
        """Send the browser to the provider (state, nonce and PKCE verifier kept in the session cookie)."""
        return self.client.authorize_redirect(callback_url)

    def finish(self) -> dict:
        """Exchange the code for tokens at the provider; the verified id_token claims, plus userinfo if needed."""
        token = self.client.authorize_access_token()
        claims = dict(token.get("userinfo") or {})
        if self.config.issuer and claims.get("iss") != self.config.issuer:
            raise ValueError("id_token issuer does not match the configured issuer")
        if claim(claims, self.config.role_claim) is None:
            claims.update({k: v for k, v in self.client.userinfo(token=token).items() if k != "sub"})
        return claims
