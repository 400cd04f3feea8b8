"""Component ids, in one place, so layouts, callbacks and browser tests agree."""

# Page-wide
URL = "url"
TICK = "tick"
SNAP_VERSION = "snap-version"
HOLD = "hold"  # dcc.Store: the live panel the pointer is over ("feed", "alerts", "stories"), held still
LAST_SEEN = "last-seen"
STALE_BANNER = "stale-banner"
FRESHNESS = "freshness"
HEADER_STATUS = "header-status"
GAME_CLOCK = "game-clock"
ALERT_TOAST = "alert-toast"
ALERT_FLASH = "alert-flash"

# Panels
VOLUME_CHART = "volume-chart"
TRENDING = "trending"
FEED = "feed"
FEED_SOURCE = "feed-source"
FEED_MIN_SCORE = "feed-min-score"
ALERTS = "alerts"
SOURCES = "sources"
SENTIMENT_CHART = "sentiment-chart"
PIPELINE = "pipeline"

# Framing
CARD_TITLE = "card-title"
CARD_SUMMARY = "card-summary"
CARD_TYPE = "card-type"
CARD_PRIORITY = "card-priority"
CARD_OWNER = "card-owner"
CARD_STATUS = "card-status"
CARD_CONTEXT = "card-context"
CARD_CONTEXT_VIEW = "card-context-view"
CARD_SAVE = "card-save"
CARD_SAVED = "card-saved"
CARDS = "cards"
CARDS_VERSION = "cards-version"
CARD_STATUS_SET = "card-status-set"  # pattern id type: {"type": CARD_STATUS_SET, "card": id, "status": s}

STORYLINES = "storylines"
LEARNING = "learning"
FOCUS = "focus"  # dcc.Store: a moment the volume chart zooms to (an alert's)

# Pattern-matching id types
FRAME_POST = "frame-post"
FRAME_STORY = "frame-story"
MARK_POST = "mark-post"  # {"type": MARK_POST, "post": id, "relevant": bool}
ACK_ALERT = "ack-alert"
FOCUS_ALERT = "focus-alert"
