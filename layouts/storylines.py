"""Storylines: the conversations of the last minutes, each with its label, size, growth and examples."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from layouts import ids
from layouts.render import memo_rows

NO_STORYLINES = html.Div("Storylines form once relevant posts build up (every 30 s).", className="text-muted p-2")
SHOWN = 6


def storyline_rows(lines: list[dict], can_frame: bool) -> list:
    return [storyline_item(line, can_frame) for line in lines[:SHOWN]] or [NO_STORYLINES]


def storyline_list(lines: list[dict], can_frame: bool) -> str:
    """storyline_rows as assets/rows.js draws them, each distinct storyline drawn once (layouts.render.memo_rows)."""
    return memo_rows(lines[:SHOWN], storyline_item, can_frame, empty=NO_STORYLINES)


def storyline_item(line: dict, can_frame: bool) -> html.Div:
    growth = line.get("growth", 1.0)
    arrow = "▲" if growth > 1.3 else ("▼" if growth < 0.7 else "▶")
    head = html.Div(
        [
            html.Span(" · ".join(line.get("label", [])[:4]), className="story-label me-2"),
            dbc.Badge(f"{line.get('size', 0)} posts", color="secondary", className="me-1"),
            dbc.Badge(
                f"{arrow} ×{growth:.1f}",
                color="warning" if growth > 1.3 else "secondary",
                text_color="dark" if growth > 1.3 else None,
                className="me-1",
            ),
            dbc.Button(
                "Frame",
                id={"type": ids.FRAME_STORY, "story": line["id"]},
                size="sm",
                color="outline-warning",
                className="ms-auto py-0",
                n_clicks=0,
            )
            if can_frame
            else None,
        ],
        className="d-flex align-items-center",
    )
    examples = [
        html.Div(f"@{p.get('author', {}).get('handle', '?')}: {p.get('text', '')}", className="story-example")
        for p in line.get("posts", [])[:3]
    ]
    return html.Div([head, *examples], className="story-item", **{"data-story-id": line["id"]})
