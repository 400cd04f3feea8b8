"""Component ids, in one place, so layouts, callbacks and browser tests agree."""

# Page-wide
URL = "url"
TICK = "tick"  # the command center's clock; the wall and exec pages have their own (same period)
TICK_MS = 500  # screens ask for news twice a second; cached answers make that cheap
SNAP_VERSION = "snap-version"
PUSH = "push"  # dcc.Store: set by assets/push.js when a pushed answer waits: the screen callback takes it at once
PUSH_CONFIG = "push-config"  # the push server's port for assets/push.js (data-port; 0: screens poll)
HOLD = "hold"  # dcc.Store: the live panel the pointer is over ("feed", "alerts", "stories"), held still
LAST_SEEN = "last-seen"
STALE_BANNER = "stale-banner"
FRESHNESS = "freshness"
HEADER_STATUS = "header-status"
GAME_CLOCK = "game-clock"
ALERT_TOAST = "alert-toast"
ALERT_FLASH = "alert-flash"
WHOAMI = "whoami"  # who is signed in, as what, and Sign out
SIGN_OUT = "sign-out"
SIGN_OUT_CSRF = "sign-out-csrf"
FORBIDDEN = "forbidden"

# Admin and audit pages
ADMIN_MESSAGE = "admin-message"  # what the last admin action did (a new link or token is shown here, once)
ADMIN_PEOPLE = "admin-people"
ADMIN_KIOSKS = "admin-kiosks"
ADMIN_TOKENS = "admin-tokens"
ADMIN_VERSION = "admin-version"  # dcc.Store: bumped after each change, so the lists re-render
NEW_USER_NAME = "new-user-name"
NEW_USER_ROLES = "new-user-roles"
NEW_USER_GROUPS = "new-user-groups"
NEW_USER_ADD = "new-user-add"
NEW_KIOSK_SCREEN = "new-kiosk-screen"
NEW_KIOSK_ADD = "new-kiosk-add"
NEW_TOKEN_NAME = "new-token-name"
NEW_TOKEN_SCOPES = "new-token-scopes"
NEW_TOKEN_ADD = "new-token-add"
USER_TOGGLE = "user-toggle"  # pattern id type: {"type": USER_TOGGLE, "user": name} (disable / enable)
KIOSK_REVOKE = "kiosk-revoke"  # {"type": KIOSK_REVOKE, "kiosk": id}
TOKEN_REVOKE = "token-revoke"  # {"type": TOKEN_REVOKE, "token": id}
ADMIN_PUBLISHING = "admin-publishing"  # whether publishing is paused, by whom, when and why
PUBLISH_REASON = "publish-reason"
PUBLISH_PAUSE = "publish-pause"
PUBLISH_RESUME = "publish-resume"
ADMIN_GUARDRAILS = "admin-guardrails"  # where the guardrails in force come from (event file, override by whom)
GUARD_LOAD = "guard-load"  # dcc.Store: fills the guardrail form once, when the page opens
GUARD_NOTE = "guard-note"
GUARD_BANNED = "guard-banned"
GUARD_TOPICS = "guard-topics"
GUARD_DOMAINS = "guard-domains"
GUARD_COMPETITORS = "guard-competitors"
GUARD_SAVE = "guard-save"
GUARD_RESET = "guard-reset"
PAUSED_BANNER = "paused-banner"  # "Publishing paused: <reason> (by X)" on the command center
AUDIT_WHO = "audit-who"
AUDIT_ACTION = "audit-action"
AUDIT_OBJECT = "audit-object"
AUDIT_SINCE = "audit-since"  # minutes back
AUDIT_SEARCH = "audit-search"
AUDIT_ROWS = "audit-rows"
AUDIT_EXPORT = "audit-export"

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
FRAME_ALERT = "frame-alert"  # {"type": FRAME_ALERT, "alert": id}: frame the post that raised an alert
MARK_POST = "mark-post"  # {"type": MARK_POST, "post": id, "relevant": bool}
SENTIMENT_POST = "sentiment-post"  # {"type": SENTIMENT_POST, "post": id, "label": "positive"|"neutral"|"negative"}
ACK_ALERT = "ack-alert"
FOCUS_ALERT = "focus-alert"

# Responding (issue 10): the Respond drawer a card's "Respond" opens (layouts/responses.py, callbacks/responses.py)
RESPOND_OPEN = "respond-open"  # pattern id type: {"type": RESPOND_OPEN, "card": id} (on each card)
RESPOND_DRAWER = "respond-drawer"
RESPOND_CARD = "respond-card"  # dcc.Store: the card the drawer responds on
RESPOND_REQUEST = (
    "respond-request"  # dcc.Store: the card a link asked to open (/?respond=<card id>), read in the browser
)
RESPOND_EDITING = "respond-editing"  # dcc.Store: the draft whose text the form is editing, or None (a new draft)
RESPOND_VERSION = "respond-version"  # dcc.Store: bumped after each write, so the drafts list redraws
RESPOND_TICK = "respond-tick"  # the drawer's clock (2 s, while open): expiries; writes come with the cards version
RESPOND_SEEN = "respond-seen"  # dcc.Store: what the drafts list last drew (unchanged: not redrawn)
RESPOND_HEAD = "respond-head"
RESPOND_NETWORK = "respond-network"
RESPOND_AS = "respond-as"
RESPOND_TEMPLATE = "respond-template"
RESPOND_HINT = "respond-hint"
RESPOND_TEXT = "respond-text"
RESPOND_IMAGE_URL = "respond-image-url"  # optional: the image's http(s) address (fetched when published)
RESPOND_IMAGE_ALT = "respond-image-alt"  # its alt text, required with an image
RESPOND_COUNT = "respond-count"
RESPOND_FINDINGS = "respond-findings"
RESPOND_SUBMIT = "respond-submit"
RESPOND_MESSAGE = "respond-message"
RESPOND_DRAFTS = "respond-drafts"
RESPOND_NOTE = "respond-note"  # the note a rejection sends back
RESPOND_APPROVE = "respond-approve"  # {"type": RESPOND_APPROVE, "draft": id}
RESPOND_REJECT = "respond-reject"  # {"type": RESPOND_REJECT, "draft": id}
RESPOND_PUBLISH = "respond-publish"  # {"type": RESPOND_PUBLISH, "draft": id}
RESPOND_EDIT = "respond-edit"  # {"type": RESPOND_EDIT, "draft": id}: load its text into the form

# Comments on a card (issue 10, point 4): the Discussion drawer a card's "comments · N" opens, and the header's
# mentions (layouts/comments.py, callbacks/comments.py)
COMMENTS_OPEN = "comments-open"  # pattern id type: {"type": COMMENTS_OPEN, "card": id} (on each card)
COMMENTS_DRAWER = "comments-drawer"
COMMENTS_CARD = "comments-card"  # dcc.Store: the card the drawer discusses
COMMENTS_REQUEST = "comments-request"  # dcc.Store: the card a link asked to open (/?comments=<card id>)
COMMENTS_VERSION = "comments-version"  # dcc.Store: bumped after each comment, so the list redraws
COMMENTS_TICK = "comments-tick"  # the drawer's clock (2 s, while open): a fallback to the cards version
COMMENTS_SEEN = "comments-seen"  # dcc.Store: what the list last drew (unchanged: not redrawn)
COMMENTS_HEAD = "comments-head"
COMMENTS_LIST = "comments-list"
COMMENT_TEXT = "comment-text"
COMMENT_HINT = "comment-hint"  # whom the comment will tell, as it is typed
COMMENT_ADD = "comment-add"
COMMENT_MESSAGE = "comment-message"
MENTIONS_BUTTON = "mentions-button"  # the header's "@ N": the signed-in person's mentions not yet read
MENTIONS_TICK = "mentions-tick"  # its clock (5 s): one HGET per person who may comment
MENTIONS_LIST = "mentions-list"  # in the drawer, opened from the header: the newest mentions of you
MENTION_OPEN = "mention-open"  # pattern id type: {"type": MENTION_OPEN, "card": id, "comment": id} (each mention)


# Buttons on rows that live panels re-render every tick: a clientside gate passes only real clicks on to the server
# (callbacks/clicks.py), through one dcc.Store per button type, so a re-render costs no round trip.
GATED = (
    "frame-post",
    "frame-story",
    "frame-alert",
    "mark-post",
    "sentiment-post",
    "ack-alert",
    "focus-alert",
    "care-open",
)


ROWS_DRAWN = "rows-drawn"  # dcc.Store: the output of the lists' drawing callbacks (assets/rows.js); never set


def rows(container: str) -> str:
    """The store a browser-drawn list's rows arrive in (assets/rows.js draws them into `container`)."""
    return f"{container}-rows"


def gate(kind: str) -> str:
    """The store a button type's real clicks land in."""
    return f"gate-{kind}"
