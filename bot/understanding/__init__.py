"""Understanding free text: normalise, rank topics and routes, then answer, clarify or decline."""

from bot.understanding.engine import Analysis, Route, Understanding

__all__ = ["Analysis", "Route", "Understanding"]
