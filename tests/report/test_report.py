"""The report of a simulated game: every number checked against the archive, the PDF rendered and its pages read."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from archive.tables import Archive
from config.settings import load_settings
from report.build import write_report
from tests.game import simulate_game


@pytest.fixture(scope="module")
def game(redis_server, tmp_path_factory):
    from store.keys import Keys
    from store.server import connect

    r = connect(redis_server.url)
    r.flushall()
    tmp = tmp_path_factory.mktemp("game")
    settings = load_settings({})
    done = simulate_game(settings, r, Keys("test"), tmp / "archive", end=time.time(), minutes=7, rate=15)
    out = write_report(settings, tmp / "report", root=tmp / "archive")
    r.flushall()
    return {"archive": Archive(tmp / "archive"), "out": out, "done": done, "settings": settings}


def csv(game, name: str) -> pd.DataFrame:
    return pd.read_csv(game["out"] / "csv" / f"{name}.csv")


def test_volume_by_minute_matches_the_archive_and_every_table_is_exported(game):
    vol = game["archive"].table("volume")
    by_minute = csv(game, "volume_by_minute")
    assert len(by_minute) >= 6
    assert by_minute["posts"].sum() == vol.loc[vol["series"] == "all", "posts"].sum() > 1000
    assert by_minute["Oreo"].sum() == vol.loc[vol["series"] == "Oreo", "posts"].sum()
    for name in ("peaks", "share_of_voice", "sentiment_by_minute", "top_hashtags", "top_posts", "storylines"):
        assert (game["out"] / "json" / f"{name}.json").exists()
        assert len(json.loads((game["out"] / "json" / f"{name}.json").read_text())) == len(csv(game, name))


def test_share_of_voice_adds_up_and_the_brand_leads_its_own_event(game):
    sov = csv(game, "share_of_voice").set_index("series")
    vol = game["archive"].table("volume")
    assert sov.at["Oreo", "posts"] == vol.loc[vol["series"] == "Oreo", "posts"].sum()
    assert abs(sov["share_pct"].sum() - 100) < 0.5
    assert sov["share_pct"].idxmax() == "Oreo"


def test_the_busiest_peak_is_annotated_with_what_drove_it(game):
    peaks = csv(game, "peaks")
    by_minute = csv(game, "volume_by_minute")
    assert len(peaks) >= 1
    top = peaks.sort_values("posts").iloc[-1]
    assert top["posts"] == by_minute["posts"].max()
    assert str(top["top_terms"]).startswith("#")  # the minute's own hashtags
    assert isinstance(top["storyline"], str) and top["storyline"]


def test_alerts_and_cards_carry_acknowledgement_and_approval_times(game):
    alerts = csv(game, "alerts")
    acked = alerts.dropna(subset=["ack_after_s"])
    assert len(acked) == len(game["done"]["acked"]) >= 1
    assert (acked["ack_after_s"] == 15).all()  # the simulated strategists acknowledge 15 s after an alert shows
    cards = csv(game, "cards")
    assert len(cards) == len(game["done"]["cards"])
    approved = cards.dropna(subset=["approval_after_s"])
    assert (
        len(approved) >= 1 and (approved["status"] == "approved").all() and (approved["approval_after_s"] >= 30).all()
    )


def test_source_coverage_counts_the_simulator(game):
    cov = csv(game, "source_coverage").set_index("source")
    assert cov.at["simulator", "minutes_with_posts"] >= 6


def test_customer_care_is_reported_as_the_lane_measured_it(game):
    care = csv(game, "care")
    archived = game["archive"].table("care").sort_values("at")
    assert len(archived) and len(care), "the lane's figures were archived while the game ran"
    last = archived.iloc[-1]
    assert int(care.iloc[-1]["backlog"]) == int(last["backlog"]) and int(care.iloc[-1]["breaches"]) == int(
        last["breaches"]
    )
    assert int(last["open"]) >= int(last["backlog"]) >= 1, "the simulated game brings care cases"
    words = (game["out"] / "report.html").read_text()
    assert "Customer care: first response, breaches and backlog" in words
    assert "care backlog at the end" in words and "care breaches" in words


def test_pdf_pages_render_and_say_what_the_tables_say(game, tmp_path):
    pdf = game["out"] / "report.pdf"
    pages = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    n = int(next(line.split()[-1] for line in pages.splitlines() if line.startswith("Pages:")))
    assert n >= 3
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == n
    words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    total = int(csv(game, "volume_by_minute")["posts"].sum())
    assert f"{total:,}" in words  # the summary's posts figure is the archive's
    if os.environ.get("WARROOM_SCREENSHOTS"):  # the README's picture of a report page
        docs = Path(__file__).resolve().parents[2] / "docs"
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(docs / "report")],
            check=True,
        )
    for heading in (
        "Volume by minute",
        "Share of voice",
        "Sentiment per brand",
        "Alerts and how fast",
        "Customer care",
        "Source coverage",
    ):
        assert heading in words


def test_html_report_opens_without_network(game):
    page = (game["out"] / "report.html").read_text()
    assert "<svg" in page and "<script" not in page
    assert "http://" not in page.split("<body>")[0] and "<link" not in page  # no external stylesheet or font
