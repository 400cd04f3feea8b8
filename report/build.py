"""The report's tables, computed from the archive alone, and `write_report`: HTML, PDF, CSV and JSON in one folder.

Every number in the report is in one of these tables, and every table is exported: what the PDF says can be
checked against the CSV, and the CSV against the archive.
"""

from __future__ import annotations

import io
import logging
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson
import pandas as pd

from archive.tables import Archive
from archive.writer import archive_dir
from config.settings import Settings

logger = logging.getLogger(__name__)

ALL = "all"
PEAKS = 6  # peaks annotated on the volume chart
TOP_HASHTAGS = 15
TOP_POSTS = 15


@dataclass
class Report:
    event: dict
    start: float
    end: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    generated_at: float = field(default_factory=time.time)


def parse_when(value: str | float | None) -> float | None:
    """Unix seconds from an ISO time ("2026-02-08T23:00:00Z") or a number; None stays None."""
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def collect(archive: Archive, start: float | None = None, end: float | None = None) -> Report:
    """Every table of the report for [start, end] (default: all the archive holds)."""
    event = archive.event()
    volume = archive.table("volume", start, end)
    if start is None:
        start = float(volume["minute"].min()) if len(volume) else time.time()
    if end is None:
        end = float(volume["minute"].max()) + 59 if len(volume) else start
    rep = Report(event, start, end)
    brands = [event.get("brand", "")] + list(event.get("competitors", []))
    hashtags = archive.table("hashtags", start, end)
    storylines = archive.table("storylines", start, end + 60)
    alerts = archive.table("alerts", start, end + 60)
    rep.tables["volume_by_minute"] = volume_by_minute(volume, event)
    rep.tables["peaks"] = peaks(rep.tables["volume_by_minute"], hashtags, storylines, alerts)
    rep.tables["share_of_voice"] = share_of_voice(volume, brands)
    rep.tables["sentiment_by_minute"] = sentiment_by_minute(volume, brands)
    rep.tables["top_hashtags"] = top_hashtags(hashtags)
    rep.tables["top_posts"] = top_posts(archive.table("posts", start, end + 60))
    rep.tables["storylines"] = storyline_table(storylines)
    rep.tables["alerts"] = alert_table(alerts)
    rep.tables["cards"] = card_table(archive.table("cards", latest=False), archive.table("responses"))
    rep.tables["responses"] = response_table(archive.table("responses", start, end + 3600))
    rep.tables["care"] = care_table(archive.table("care", start, end + 60))
    rep.tables["source_coverage"] = source_coverage(volume, archive.table("sources", start, end + 60), start, end)
    return rep


def _iso(t) -> str:
    return (
        "" if t is None or pd.isna(t) else datetime.fromtimestamp(float(t)).astimezone().isoformat(timespec="seconds")
    )


def volume_by_minute(volume: pd.DataFrame, event: dict) -> pd.DataFrame:
    """One row per minute: every post, the busiest second, and each brand, competitor and term."""
    names = [event.get("brand", "")] + list(event.get("competitors", [])) + list(event.get("terms", []))
    if volume.empty:
        return pd.DataFrame(columns=["minute", "time", "posts", "peak_per_s", *names])
    posts = volume.pivot_table(index="minute", columns="series", values="posts", aggfunc="sum", fill_value=0)
    peak = volume[volume["series"] == ALL].set_index("minute")["peak_per_s"]
    out = pd.DataFrame({"minute": posts.index.astype("int64")})
    out["time"] = [_iso(m) for m in out["minute"]]
    out["posts"] = [int(posts.at[m, ALL]) if ALL in posts.columns else 0 for m in out["minute"]]
    out["peak_per_s"] = [int(peak.get(m, 0)) for m in out["minute"]]
    for name in names:
        out[name] = [int(posts.at[m, name]) if name in posts.columns else 0 for m in out["minute"]]
    return out.reset_index(drop=True)


def peaks(
    by_minute: pd.DataFrame, hashtags: pd.DataFrame, storylines: pd.DataFrame, alerts: pd.DataFrame
) -> pd.DataFrame:
    """The busiest minutes that stand above their neighbours, each with what drove it: terms, storyline, alert."""
    cols = ["rank", "minute", "time", "posts", "times_median", "top_terms", "storyline", "alerts"]
    if by_minute.empty:
        return pd.DataFrame(columns=cols)
    posts = by_minute["posts"].tolist()
    median = float(pd.Series(posts).median()) or 1.0
    local = [
        i
        for i, n in enumerate(posts)
        if n >= (posts[i - 1] if i else 0) and n >= (posts[i + 1] if i + 1 < len(posts) else 0) and n > median
    ]
    local.sort(key=lambda i: posts[i], reverse=True)
    rows = []
    for rank, i in enumerate(sorted(local[:PEAKS], key=lambda i: by_minute.at[i, "minute"]), start=1):
        m = int(by_minute.at[i, "minute"])
        tags = hashtags[hashtags["minute"] == m].sort_values("posts", ascending=False)["tag"].head(3)
        near = storylines[(storylines["at"] >= m) & (storylines["at"] < m + 120)].sort_values(["at", "rank"])
        raised = alerts[(alerts["moment"] >= m - 60) & (alerts["moment"] < m + 60) & (alerts["severity"] != "medium")]
        rows.append(
            {
                "rank": rank,
                "minute": m,
                "time": _iso(m),
                "posts": posts[i],
                "times_median": round(posts[i] / median, 1),
                "top_terms": ", ".join(f"#{t}" for t in tags),
                "storyline": near["label"].iloc[0] if len(near) else "",
                "alerts": "; ".join(dict.fromkeys(raised["title"])),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def share_of_voice(volume: pd.DataFrame, brands: list[str]) -> pd.DataFrame:
    totals = {b: int(volume.loc[volume["series"] == b, "posts"].sum()) for b in brands if b}
    whole = sum(totals.values()) or 1
    return pd.DataFrame(
        [{"series": b, "posts": n, "share_pct": round(100 * n / whole, 1)} for b, n in totals.items()],
        columns=["series", "posts", "share_pct"],
    )


def sentiment_by_minute(volume: pd.DataFrame, brands: list[str]) -> pd.DataFrame:
    """Mean sentiment (VADER compound, -1 to +1) per brand and minute; empty where fewer than 3 posts."""
    rows = []
    for m, group in volume.groupby("minute"):
        row = {"minute": int(m), "time": _iso(m)}
        for b in brands:
            g = group[group["series"] == b]
            n = int(g["posts"].sum())
            row[b] = round(float(g["sentiment_sum"].sum()) / n, 3) if n >= 3 else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["minute", "time", *brands])


def top_hashtags(hashtags: pd.DataFrame) -> pd.DataFrame:
    if hashtags.empty:
        return pd.DataFrame(columns=["tag", "posts"])
    out = hashtags.groupby("tag", as_index=False)["posts"].sum().sort_values("posts", ascending=False)
    return out.head(TOP_HASHTAGS).reset_index(drop=True)


def top_posts(posts: pd.DataFrame) -> pd.DataFrame:
    cols = ["time", "kept_for", "source", "handle", "followers", "score", "sentiment", "text", "url", "id"]
    if posts.empty:
        return pd.DataFrame(columns=cols)
    framed = posts[posts["kept_for"] != "feed"]
    feed = posts[posts["kept_for"] == "feed"].sort_values("score", ascending=False).drop_duplicates("id")
    out = pd.concat([framed, feed.head(TOP_POSTS)]).drop_duplicates("id")
    out = out.assign(time=[_iso(t) for t in out["received_at"]])
    return out[cols].reset_index(drop=True)


def storyline_table(storylines: pd.DataFrame) -> pd.DataFrame:
    cols = ["label", "first_seen", "last_seen", "max_size", "max_growth", "example"]
    if storylines.empty:
        return pd.DataFrame(columns=cols)
    g = storylines.groupby("label")
    out = pd.DataFrame(
        {
            "first_seen": g["at"].min(),
            "last_seen": g["at"].max(),
            "max_size": g["size"].max(),
            "max_growth": g["growth"].max().round(1),
            "example": g["example"].first(),
        }
    ).reset_index()
    out = out.sort_values("max_size", ascending=False).head(12)
    out["first_seen"] = [_iso(t) for t in out["first_seen"]]
    out["last_seen"] = [_iso(t) for t in out["last_seen"]]
    return out[cols].reset_index(drop=True)


def alert_table(alerts: pd.DataFrame) -> pd.DataFrame:
    cols = ["time", "severity", "kind", "title", "acked_by", "ack_after_s", "id"]
    if alerts.empty:
        return pd.DataFrame(columns=cols)
    out = alerts.sort_values("at").copy()
    out["time"] = [_iso(t) for t in out["at"]]
    out["ack_after_s"] = [
        round(a - r, 1) if a is not None and not pd.isna(a) else None
        for a, r in zip(out["acked_at"], out["raised_at"], strict=True)
    ]
    return out[cols].reset_index(drop=True)


ENGAGEMENT = ("replies", "quotes", "reposts", "likes")


def card_table(history: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    """Each card as it ended, when it was approved (its own time, else the first archived version that was),
    how long that took, and its published responses and their engagement (replies, quotes, reposts, likes)."""
    cols = [
        "created",
        "title",
        "type",
        "priority",
        "status",
        "owner",
        "approval_after_s",
        "responses",
        "engagement",
        "id",
    ]
    if history.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for card_id, versions in history.sort_values("archived_at").groupby("id"):
        last = versions.iloc[-1]
        approved = versions[versions["status"].isin(["approved", "posted"])]
        approved_at = last["approved_at"]
        if pd.isna(approved_at) and len(approved):
            approved_at = approved["updated_at"].iloc[0]
        mine = responses[responses["card_id"] == card_id]
        rows.append(
            {
                "created": _iso(last["created_at"]),
                "title": last["title"],
                "type": last["type"],
                "priority": last["priority"],
                "status": last["status"],
                "owner": last["owner"],
                "approval_after_s": None if pd.isna(approved_at) else round(approved_at - last["created_at"], 1),
                "responses": len(mine),
                "engagement": int(mine[list(ENGAGEMENT)].fillna(0).to_numpy().sum()),
                "id": card_id,
                "_t": last["created_at"],
            }
        )
    return pd.DataFrame(rows).sort_values("_t").drop(columns="_t")[cols].reset_index(drop=True)


def response_table(responses: pd.DataFrame) -> pd.DataFrame:
    """Each published response with what it did, oldest first."""
    cols = ["published", "network", "text", *ENGAGEMENT, "positive", "negative", "url"]
    if responses.empty:
        return pd.DataFrame(columns=cols)
    out = responses.sort_values("published_at").copy()
    out["published"] = out["published_at"].map(_iso)
    for c in (*ENGAGEMENT, "positive", "negative"):
        out[c] = out[c].fillna(0).astype(int)
    return out[cols].reset_index(drop=True)


CARE_COLUMNS = ["first_response_p50_s", "first_response_p95_s", "responses", "breaches", "backlog", "escalations"]
CARE_EVERY_S = 600  # one row per ten minutes: the lane's figures as they stood then


def care_table(care: pd.DataFrame) -> pd.DataFrame:
    """Customer care over the event: the lane's last figures in each ten minutes, the last row the event's end."""
    cols = ["time", *CARE_COLUMNS, "safety_open"]
    if care.empty:
        return pd.DataFrame(columns=cols)
    out = care.sort_values("at").copy()
    out["slot"] = (out["at"] // CARE_EVERY_S).astype(int)
    out = out.groupby("slot", as_index=False).last()
    out["time"] = out["at"].map(_iso)
    for c in ("responses", "breaches", "backlog", "escalations", "safety_open"):
        out[c] = out[c].fillna(0).astype(int)
    for c in ("first_response_p50_s", "first_response_p95_s"):
        out[c] = out[c].round(0)
    return out[cols].reset_index(drop=True)


def source_coverage(volume: pd.DataFrame, health: pd.DataFrame, start: float, end: float) -> pd.DataFrame:
    """Per source: minutes it delivered posts, minutes it was silent (its gaps), and its reported states."""
    cols = ["source", "posts", "minutes_with_posts", "minutes_in_period", "silent_minutes", "states", "reported_gaps"]
    minutes = list(range(int(start) // 60 * 60, int(end) + 1, 60))
    rows = []
    src = volume[volume["series"].str.startswith("src:")]
    for name, g in src.groupby("series"):
        source = name.removeprefix("src:")
        have = set(g.loc[g["posts"] > 0, "minute"].astype(int))
        silent = [m for m in minutes if m not in have]
        h = health[health["source"] == source] if len(health) else health
        gaps = set()
        for raw in h.get("gaps", []):
            gaps.update(tuple(x) for x in orjson.loads(raw or "[]"))
        rows.append(
            {
                "source": source,
                "posts": int(g["posts"].sum()),
                "minutes_with_posts": len(have),
                "minutes_in_period": len(minutes),
                "silent_minutes": ", ".join(time.strftime("%H:%M", time.localtime(m)) for m in silent[:20]),
                "states": ", ".join(sorted(set(h["state"]))) if len(h) else "",
                "reported_gaps": len(gaps),
            }
        )
    return pd.DataFrame(rows, columns=cols)


# Writing ------------------------------------------------------------------------------------------------------


def export(rep: Report, out: Path) -> list[Path]:
    """Every table as CSV and JSON under out/csv and out/json."""
    written = []
    for sub in ("csv", "json"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for name, frame in rep.tables.items():
        frame.to_csv(out / "csv" / f"{name}.csv", index=False)
        records = orjson.loads(frame.to_json(orient="records"))
        (out / "json" / f"{name}.json").write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
        written += [out / "csv" / f"{name}.csv", out / "json" / f"{name}.json"]
    return written


def write_report(
    settings: Settings,
    out: Path | None = None,
    *,
    start: str | float | None = None,
    end: str | float | None = None,
    pdf: bool = True,
    root: Path | None = None,
) -> Path:
    """Write report.html (self-contained), report.pdf, csv/ and json/ into `out`; returns the folder."""
    from report.html import render

    rep = collect(Archive(root or archive_dir(settings)), parse_when(start), parse_when(end))
    out = Path(out or settings.var_dir / "reports" / f"{settings.event.id}-{time.strftime('%Y%m%d-%H%M%S')}")
    out.mkdir(parents=True, exist_ok=True)
    page = render(rep)
    (out / "report.html").write_text(page, encoding="utf-8")
    export(rep, out)
    if pdf:
        import weasyprint

        weasyprint.HTML(string=page, base_url=str(out)).write_pdf(out / "report.pdf")
    logger.info("report for %s–%s written to %s", _iso(rep.start), _iso(rep.end), out)
    return out


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(folder))
    return buf.getvalue()
