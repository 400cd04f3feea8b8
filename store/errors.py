"""Store errors, mapped from redis-py's at the boundary.

StoreError
├── StoreUnavailable   the server cannot be reached or will not start
└── NotFound           a card or post id that does not exist
"""


class StoreError(Exception):
    """Base for every error the store raises."""


class StoreUnavailable(StoreError):
    """Redis cannot be reached; the message says what to check."""


class NotFound(StoreError):
    """The thing asked for does not exist."""
