"""Answering typed questions from what the understanding engine made of them."""

from __future__ import annotations

from dataclasses import replace

from bot.context import Context
from bot.core import Reply
from bot.understanding import Analysis
from handlers import announcements, browse, handover, queue
from handlers.start import main_menu


async def answer_question(ctx: Context, analysis: Analysis) -> list[Reply]:
    """Answer, ask which topic was meant, hand over to a route, or decline honestly."""
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
            return [Reply(ctx.t("clarify"), (*options, ctx.option("m", "btn.menu")))]
        case "queue":
            return await queue.show_queue(ctx, analysis.ticket or "")
        case "announcements":
            return await announcements.show_announcements(ctx, "")
        case "human":
            return await handover.talk_to_officer(ctx, ctx.incoming.text or "")
        case "smalltalk":
            return [Reply(ctx.t(f"smalltalk.{analysis.smalltalk or 'hello'}"), main_menu(ctx))]
    if analysis.neighbour_id:
        neighbour = next(n for n in ctx.content.neighbours if n.id == analysis.neighbour_id)
        redirect = ctx.content.fill(neighbour.redirect.get(ctx.lang), ctx.lang)
        text = ctx.t("neighbour", redirect=redirect)
        return [Reply(text, (ctx.option("m", "btn.menu"),))]
    if analysis.suggestions:
        options = [browse.topic_option(ctx, topic_id) for topic_id in analysis.suggestions]
        return [Reply(ctx.t("fallback_suggest"), (*options, ctx.option("m", "btn.menu")))]
    return [Reply(ctx.t("fallback"), main_menu(ctx))]
