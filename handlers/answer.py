"""Answering typed questions: the engine's analysis, the bookkeeping, the answer. The assistant
routes free text here; `ukkbot ask` calls `answer_text` directly."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.context import Answer, Context
from bot.core import Reply
from bot.understanding import Analysis
from handlers import announcements, browse, handover, queue
from handlers.start import main_menu


@dataclass(frozen=True)
class Answered(Answer):
    """An answer to typed text, with what the engine made of it (`ukkbot ask --json`)."""

    analysis: Analysis = field(kw_only=True)


async def answer_text(ctx: Context, text: str, count: bool = True) -> Answered:
    """Analyse, count and answer typed text. A stored /bahasa choice wins; otherwise the answer
    follows the message's language. `ukkbot ask` does not count: its questions are not asked at
    the office."""
    analysis = ctx.services.understanding.analyse(text, default_lang=ctx.lang)
    unanswered = analysis.route == "clarify" or (
        analysis.route == "unknown" and not analysis.neighbour_id
    )
    # A count per local day for /statistik (no text), and the normalised text of what the bot
    # could not answer outright; written behind, in batches.
    if count:
        bookkeeping = ctx.services.bookkeeping
        bookkeeping.count_question(ctx.today())
        if unanswered:
            bookkeeping.record_question(analysis.normalised, analysis.route, ctx.store.clock())
    if not ctx.lang_chosen:
        ctx = replace(ctx, lang=analysis.lang)
    return Answered(await answer_question(ctx, text, analysis), ctx.lang, analysis=analysis)


async def answer_question(ctx: Context, text: str, analysis: Analysis) -> list[Reply]:
    """Answer `text`, ask which topic was meant, hand over to a route, or decline honestly."""
    match analysis.route:
        case "topic" if analysis.topic_id:
            replies = await browse.show_topic(ctx, analysis.topic_id)
            if analysis.also:  # a second question in the message: its topic is the first button
                last = replies[-1]
                also = browse.topic_option(ctx, analysis.also)
                rest = tuple(o for o in last.options if o != also)
                replies[-1] = replace(last, options=(also, *rest))
            return replies
        case "clarify" if analysis.category:
            return await browse.show_category(ctx, analysis.category)
        case "clarify" if analysis.candidates:
            options = [browse.topic_option(ctx, topic_id) for topic_id in analysis.candidates]
            return [Reply(ctx.t("clarify"), (*options, ctx.menu_button()))]
        case "queue":
            return await queue.show_queue(ctx, analysis.ticket or "")
        case "announcements":
            return await announcements.show_announcements(ctx, "")
        case "human":
            return await handover.talk_to_officer(ctx, text)
        case "smalltalk":
            return [Reply(ctx.t(f"smalltalk.{analysis.smalltalk or 'hello'}"), main_menu(ctx))]
    if analysis.neighbour_id:
        neighbour = next(n for n in ctx.content.neighbours if n.id == analysis.neighbour_id)
        redirect = ctx.content.fill(neighbour.redirect.get(ctx.lang), ctx.lang)
        text = ctx.t("neighbour", redirect=redirect)
        return [Reply(text, (ctx.menu_button(),))]
    if analysis.suggestions:
        options = [browse.topic_option(ctx, topic_id) for topic_id in analysis.suggestions]
        return [Reply(ctx.t("fallback_suggest"), (*options, ctx.menu_button()))]
    return [Reply(ctx.t("fallback"), main_menu(ctx))]
