"""Digests and notifications: channels (Apprise URLs and a signed webhook), the user's rule,
digest building, guarded delivery with retries. Delivery runs in the worker fleet only (the
tracking tick); the web app only records channels, rules and test requests."""

from __future__ import annotations


class NotifyError(ValueError):
    """Invalid channel or rule input; the message is safe to show."""


class ChannelNotFound(LookupError):
    def __init__(self, channel_id: int):
        super().__init__(f"Channel {channel_id} not found")
        self.channel_id = channel_id
