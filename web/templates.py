"""The response template library: templates from the event file (and the file it names), which ones are offered
for a card, and rendering one into a draft's text. Pure except `library`, which reads the named file."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from config.settings import ConfigError, EventConfig, Template

_TEMPLATES = TypeAdapter(list[Template])


def library(event: EventConfig, event_path: str | Path) -> list[Template]:
    """The event file's templates plus those in `publishing.templates_file` (relative to the event file)."""
    templates = list(event.publishing.templates)
    name = event.publishing.templates_file
    if name:
        path = Path(name)
        if not path.is_absolute():
            path = Path(event_path).resolve().parent / path
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            templates += _TEMPLATES.validate_python(raw.get("templates", raw) if isinstance(raw, dict) else raw)
        except FileNotFoundError:
            raise ConfigError(f"publishing.templates_file: {path} not found") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"publishing.templates_file: {path} is not valid YAML: {exc}") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"publishing.templates_file {path}: '{where}': {first['msg']}") from None
    ids = [t.id for t in templates]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"template ids must be unique across the event file and templates_file; repeated: {dupes}")
    return templates


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def valid_at(template: Template, now: datetime) -> bool:
    now = _aware(now)
    if template.valid_from and now < _aware(template.valid_from):
        return False
    return not (template.valid_until and now >= _aware(template.valid_until))


def offered(templates: list[Template], network: str, card_type: str | None, now: datetime) -> list[Template]:
    """Templates a drafter may pick for this network and card type right now (expired or future ones are not)."""
    return [
        t
        for t in templates
        if network in t.networks and (t.card_type is None or t.card_type == card_type) and valid_at(t, now)
    ]


def placeholders(template: Template) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template.text) if f}


def render(template: Template, *, brand: str, handle: str | None = None, moment: str | None = None) -> str:
    """Fill {brand}, {handle} and {moment}; ValueError names a placeholder the card cannot fill."""
    values = {"brand": brand, "handle": _at(handle), "moment": (moment or "").strip() or None}
    missing = sorted(p for p in placeholders(template) if not values.get(p))
    if missing:
        raise ValueError(
            f"template {template.name!r} needs {', '.join('{' + m + '}' for m in missing)}: the card has none"
        )
    return template.text.format(**{k: v or "" for k, v in values.items()})


def _at(handle: str | None) -> str | None:
    handle = (handle or "").strip().lstrip("@")
    return f"@{handle}" if handle else None


def fill(template: Template, card: dict, brand: str, moment: str | None = None) -> dict:
    """What a draft keeps of the template it started from (drafts.new_draft's `template`), with the rendered text.

    {moment} is words, not the card's timestamp: the caller's `moment` (a schedule item, a storyline label) or else
    the card's title."""
    text = render(template, brand=brand, handle=card.get("post_handle"), moment=moment or card.get("title"))
    return {"id": template.id, "text": text, "pre_approved": template.pre_approved, "tags": list(template.tags)}
