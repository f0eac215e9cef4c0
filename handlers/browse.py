"""Browsing curated content: category → topic list → topic answer."""

from __future__ import annotations

from bot import actions
from bot.content.loader import CATEGORIES
from bot.context import Context
from bot.core import Location, Option, Reply
from handlers import statistics
from handlers.closures import CLOSURES_AHEAD, closure_lines

HOURS_TOPIC = "jam-layanan"


def topic_option(ctx: Context, topic_id: str) -> Option:
    return Option(f"{actions.TOPIC}:{topic_id}", ctx.content.topics[topic_id].title.get(ctx.lang))


async def show_category(ctx: Context, category: str) -> list[Reply]:
    """List the topics of one category as buttons."""
    if category not in CATEGORIES:
        return ctx.unknown_action()
    options = [topic_option(ctx, topic.id) for topic in ctx.content.topics_in(category)]
    return [Reply(ctx.t(f"category.{category}"), (*options, ctx.menu_button()))]


async def show_topic(ctx: Context, topic_id: str) -> list[Reply]:
    """A topic's answer, with related topics, 👍 / 👎 and Back/Menu buttons; the view counted."""
    topic = ctx.content.topics.get(topic_id)
    if topic is None:
        return [ctx.reply(ctx.t("unknown_topic"), ctx.menu_button())]
    await statistics.count_view(ctx, topic.id)
    related = [topic_option(ctx, rid) for rid in topic.related]
    options = (
        *related,
        *statistics.feedback_options(ctx, topic.id),
        ctx.option(f"{actions.CATEGORY}:{topic.category}", "btn.back"),
        ctx.menu_button(),
    )
    text = ctx.content.topic_text(topic, ctx.lang)
    if topic.id == HOURS_TOPIC:
        text = "\n".join([*await closure_lines(ctx, CLOSURES_AHEAD), text])
    if related:
        text = f"{text}\n\n{ctx.t('related')}"
    replies = [Reply(text, options)]
    if topic.id == "lokasi":
        replies.insert(0, location_reply(ctx))
    return replies


def location_reply(ctx: Context) -> Reply:
    """The office on a map: a pin when coordinates are set, else a map search link."""
    place = ctx.content.office.location
    caption = ctx.t("location_caption", map_url=place.map_url)
    if place.lat is None or place.lon is None:
        return Reply(caption)
    address = ctx.content.fill("{office:address}", ctx.lang)
    return Reply(caption, location=Location(place.name, address, place.lat, place.lon))
