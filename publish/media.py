"""A draft's image, fetched at publish time from its URL: bounded (time and size), and only PNG, JPEG, GIF or WebP
(the Content-Type says so and the first bytes agree). Every failure is a PublishError in words for the card; nothing
is posted after one. The dry run never fetches: it shows the URL and the alt text.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests

from publish import errors
from publish.errors import PublishError

MAX_REDIRECTS = 3
# The publisher fetches what a draft names: never the room's own network (a metadata service, the Redis port, an
# admin page) unless the operator says so (tests serve their images on 127.0.0.1).
ALLOW_PRIVATE_ENV = "WARROOM_MEDIA_ALLOW_PRIVATE"
MAX_BYTES = 5_000_000  # X's limit for images ("5 MB"); Bluesky's is lower (its publisher says so)
TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Image:
    url: str
    alt: str
    data: bytes
    mime: str

    @property
    def filename(self) -> str:
        return f"image.{TYPES[self.mime]}"


def _sniff(data: bytes) -> str | None:
    """The image type the bytes are, whatever the server said."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _mb(n: int) -> str:
    return f"{n / 1_000_000:.1f}".rstrip("0").rstrip(".") + " MB"


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "…"


def private_host(url: str) -> str | None:
    """The address `url`'s host resolves to when it is not a public one (loopback, private, link-local, reserved),
    else None."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return None  # unresolvable: the fetch itself fails in words
    for info in infos:
        addr = ipaddress.ip_address(info[4][0].split("%")[0])
        if not addr.is_global:
            return str(addr)
    return None


def fetch(
    url: str,
    alt: str,
    *,
    network: str,
    max_bytes: int = MAX_BYTES,
    timeout_s: float = 10.0,
    allow_private: bool = False,
) -> Image:
    """The image's bytes from `url` (redirects followed, each checked); PublishError (kind "image") says what is
    wrong with it."""
    name = errors.NAMES.get(network, network)
    where = _short(url)

    def refuse(why: str) -> PublishError:
        return PublishError(errors.IMAGE, f"Not posted to {name}: the image at {where} {why}", network=network)

    try:
        with _get(url, timeout_s, allow_private, refuse) as resp:
            if resp.status_code >= 400:
                reason = f" {resp.reason}" if resp.reason else ""
                raise refuse(f"could not be fetched ({resp.status_code}{reason}): check the address, or remove it.")
            mime = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if mime not in TYPES:
                said = mime or "no content type"
                raise refuse(f"is {said}, not an image: link a PNG, JPEG, GIF or WebP file.")
            declared = resp.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise refuse(f"is {_mb(int(declared))}, over {name}'s {_mb(max_bytes)}: use a smaller one.")
            data = bytearray()
            for chunk in resp.iter_content(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise refuse(f"is over {name}'s {_mb(max_bytes)}: use a smaller one.")
    except PublishError:
        raise
    except requests.RequestException as exc:
        raise refuse(f"could not be reached ({type(exc).__name__}): check the address, or try again.") from None
    actual = _sniff(bytes(data))
    if actual is None:
        raise refuse(f"says {mime} but is not one: link a PNG, JPEG, GIF or WebP file.")
    return Image(url=url, alt=alt, data=bytes(data), mime=actual)


def _get(url: str, timeout_s: float, allow_private: bool, refuse) -> requests.Response:
    """GET `url`, following at most MAX_REDIRECTS redirects by hand so each address is checked before it is asked."""
    for _ in range(MAX_REDIRECTS + 1):
        if urlsplit(url).scheme not in ("http", "https"):
            raise refuse("is not an http(s) address: change the image.")
        if not allow_private and (addr := private_host(url)):
            raise refuse(f"is on a private address ({addr}): link a public image.")
        resp = requests.get(
            url, stream=True, timeout=timeout_s, headers={"Accept": ", ".join(TYPES)}, allow_redirects=False
        )
        if not resp.is_redirect:
            return resp
        resp.close()
        url = urljoin(url, resp.headers.get("Location", ""))
    raise refuse(f"redirects more than {MAX_REDIRECTS} times: link the image itself.")
