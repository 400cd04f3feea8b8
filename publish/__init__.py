"""Publishing responses: per-network counting (text), the request each network gets (x, bluesky, mastodon),
errors in words for the card, and the exactly-once outbox over store/publishing.py."""
