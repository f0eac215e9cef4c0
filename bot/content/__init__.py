"""Curated content: loading, validation (`ukkbot content check`) and rendering with placeholders."""

from bot.content.loader import (
    REQUIRED_TOPIC_IDS,
    Content,
    ContentError,
    Fault,
    check_content,
    load_content,
    report_content,
    unconfirmed_in,
)

__all__ = [
    "REQUIRED_TOPIC_IDS",
    "Content",
    "ContentError",
    "Fault",
    "check_content",
    "load_content",
    "report_content",
    "unconfirmed_in",
]
