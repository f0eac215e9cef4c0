"""Feedback on answers (👍 / 👎) and `/statistik` for staff: the last seven days in figures and
a chart. Counts only: no one's id is stored with a view, a vote or a question count.
"""

from __future__ import annotations

import asyncio

from bot import actions
from bot.chart import week_chart
from bot.context import Context
from bot.core import Option, Reply
from bot.markup import escape_markup
from bot.store import questions, stats
from handlers.staff import audit_view
from handlers.survey import skm_statistics

VOTES: dict[str, stats.Vote] = {"+": "up", "-": "down"}
QUESTIONS_SHOWN = 5


def feedback_options(ctx: Context, topic_id: str) -> tuple[Option, ...]:
    """The 👍 / 👎 buttons under a topic's answer."""
    return (
        ctx.option(f"{actions.FEEDBACK}:+:{topic_id}", "feedback.up"),
        ctx.option(f"{actions.FEEDBACK}:-:{topic_id}", "feedback.down"),
    )


async def count_view(ctx: Context, topic_id: str) -> None:
    """A topic's answer was shown: one more view today."""
    ctx.services.bookkeeping.count_view(ctx.today(), topic_id)


async def rate_answer(ctx: Context, arg: str) -> list[Reply]:
    """👍 / 👎 under an answer (`f:+:paspor-baru`): counted per topic and day, nothing else."""
    sign, _, topic_id = arg.partition(":")
    vote = VOTES.get(sign)
    if vote is None or topic_id not in ctx.content.topics:
        return ctx.unknown_action()
    ctx.services.bookkeeping.count_vote(ctx.today(), topic_id, vote)
    key = "feedback.thanks_up" if vote == "up" else "feedback.thanks_down"
    return [ctx.reply(ctx.t(key), ctx.option(actions.OFFICER, "menu.officer"), ctx.menu_button())]


def topic_title(ctx: Context, topic_id: str) -> str:
    topic = ctx.content.topics.get(topic_id)
    return topic.title.get(ctx.lang) if topic else topic_id


def week_text(ctx: Context, week: stats.Week, unanswered: list[str]) -> str:
    """The week's figures as one message, a section per question staff ask."""
    first, last = week.days[0].isoformat(), week.days[-1].isoformat()
    lines = [ctx.t("stats.title", first=first, last=last)]
    total = sum(week.questions.values())
    lines.append(ctx.t("stats.questions", count=total))
    lines.append(ctx.t("stats.topics"))
    lines += [f"- {topic_title(ctx, c.topic)}: {c.views}" for c in week.topics] or [
        ctx.t("stats.none")
    ]
    lines.append(ctx.t("stats.unanswered"))
    lines += [f"- {escape_markup(q)}" for q in unanswered] or [ctx.t("stats.none")]
    lines.append(ctx.t("stats.disliked"))
    lines += [
        f"- {ctx.t('stats.votes', title=topic_title(ctx, c.topic), up=c.up, down=c.down)}"
        for c in week.disliked
    ] or [ctx.t("stats.none")]
    lines.append(ctx.t("stats.queue"))
    for service in week.services:
        per_day = ", ".join(f"{d.strftime('%d-%m')}: {n}" for d, n in sorted(service.calls.items()))
        median = (
            ctx.t("stats.median", minutes=f"{service.median_minutes:.1f}")
            if service.median_minutes is not None
            else ctx.t("stats.no_median")
        )
        lines.append(f"- {service.service}: {per_day} · {median}")
    if not week.services:
        lines.append(ctx.t("stats.none"))
    return "\n".join(lines)


async def show_statistics(ctx: Context, arg: str) -> list[Reply]:
    """`/statistik`: the last seven days — most-asked topics, unanswered questions, 👎 topics,
    queue calls and pace — and a chart of questions and calls per day, then this month's
    satisfaction index; `/statistik 2026-11` shows that month's index only."""
    await audit_view(ctx, f"/statistik {arg}".strip())
    if arg.strip():
        return await skm_statistics(ctx, arg.strip())
    await ctx.services.bookkeeping.flush()  # the counts up to this message
    week = await stats.week(ctx.store.db, ctx.today())
    asked = await questions.top_questions(ctx.store.db, ctx.store.clock(), QUESTIONS_SHOWN)
    unanswered = [f"{q.normalised} ({q.count}×)" for q in asked]
    labels = (
        ctx.t("stats.chart_title"),
        ctx.t("stats.chart_questions"),
        ctx.t("stats.chart_calls"),
    )
    # Drawing takes a while; the event loop keeps serving others meanwhile.
    png = await asyncio.to_thread(week_chart, week, labels)
    month = ctx.today().strftime("%Y-%m")
    return [Reply(week_text(ctx, week, unanswered), image=png), *await skm_statistics(ctx, month)]
