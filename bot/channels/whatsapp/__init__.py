"""WhatsApp through the Cloud API: webhook payloads → Incoming, Replies → Graph API messages.

Meta posts to /webhooks/whatsapp; we check the signature, answer 200 at once and handle the
messages in tracked tasks (`drain()` awaits them). Replies are rendered within WhatsApp's limits
(bot.limits) and posted with httpx; pywa is not used because its Graph URL is fixed and it skips
the signature check when no app secret is given.

parse: webhook bodies → messages; render: Replies → Graph messages; sender: posting, the
24-hour window and the alert template; channel: the webhook routes and the processing.
"""

from bot.channels.whatsapp.channel import (
    WEBHOOK_PATH,
    RedactVerifyToken,
    WhatsAppChannel,
    from_settings,
)
from bot.channels.whatsapp.render import Labels, alert_template, render
from bot.channels.whatsapp.sender import CHANNEL, OutsideWindow, WhatsAppSender, WhatsAppSettings

__all__ = [
    "CHANNEL",
    "WEBHOOK_PATH",
    "Labels",
    "OutsideWindow",
    "RedactVerifyToken",
    "WhatsAppChannel",
    "WhatsAppSender",
    "WhatsAppSettings",
    "alert_template",
    "from_settings",
    "render",
]
