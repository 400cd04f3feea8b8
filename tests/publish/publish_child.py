"""A publisher process for the crash test: publish one stored draft live, print the outcome.

Usage: python tests/publish/publish_child.py REDIS_URL EVENT_ID DRAFT_ID (credentials and base URLs from the environment).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import orjson  # noqa: E402

from publish import outbox  # noqa: E402
from publish.publisher import publisher_for  # noqa: E402
from store import publishing  # noqa: E402
from store.keys import Keys  # noqa: E402
from store.server import connect  # noqa: E402


def main() -> None:
    url, event_id, draft_id = sys.argv[1:4]
    r = connect(url)
    keys = Keys(event_id)
    draft = publishing.get_draft(r, keys, draft_id)
    pub = publisher_for(draft["network"], backoff_s=0.01)
    out = outbox.publish(r, keys, draft, pub, by="alice", live=True)
    print(orjson.dumps(out).decode(), flush=True)


if __name__ == "__main__":
    main()
