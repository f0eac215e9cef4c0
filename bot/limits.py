"""Platform limits in one place.

Telegram's equal PTB's constants (tests/test_content.py checks them): importing
`telegram.constants` loads all of PTB (0.2 s), which the content check and `ukkbot ask` avoid.
"""

TELEGRAM_TEXT = 4096  # telegram.constants.MessageLimit.MAX_TEXT_LENGTH
WHATSAPP_TEXT = 4096
WHATSAPP_INTERACTIVE_BODY = 1024
WHATSAPP_BUTTONS = 3
WHATSAPP_BUTTON_TITLE = 20
WHATSAPP_BUTTON_ID = 256
WHATSAPP_LIST_ROWS = 10
WHATSAPP_LIST_ROW_TITLE = 24
WHATSAPP_LIST_ROW_DESCRIPTION = 72
WHATSAPP_LIST_ROW_ID = 200
WHATSAPP_LIST_BUTTON = 20
WHATSAPP_TEMPLATE_BODY = 1024  # with its text parameters filled in

CHANNEL_TEXT_LIMITS: dict[str, int] = {
    "telegram": TELEGRAM_TEXT,
    "whatsapp": WHATSAPP_TEXT,
    "whatsapp-interactive": WHATSAPP_INTERACTIVE_BODY,
}
