"""Staff-only commands: the queue counters (`/panggil`, `/set`, `/buka`, `/jeda`, `/tutup`) and
the staff list (`/staf`). The registry lets only staff and administrators reach them.
"""

from __future__ import annotations

from typing import Literal

from bot.content.models import QueueService
from bot.context import Context
from bot.core import Reply
from bot.queue.state import MAX_REASON_CHARS, CallNext, Change, QueueError, SetNumber, SetStatus
from bot.queue_desk import Actor
from bot.store import audit, users
from handlers.queue import queue_options, status_text

ADD_WORDS = frozenset({"tambah", "add"})
REMOVE_WORDS = frozenset({"hapus", "remove"})


def actor(ctx: Context) -> Actor:
    return Actor(ctx.incoming.channel, ctx.incoming.user_key)


async def refuse(ctx: Context, command: str, key: str = "staff.only") -> list[Reply]:
    """Refuse politely and keep a record of the attempt."""
    await ctx.services.queue_desk().audit_refusal(actor(ctx), command)
    return [ctx.reply(ctx.t(key), *queue_options(ctx))]


async def audit_view(ctx: Context, action: str) -> None:
    """Record that a staff member looked at figures only staff may see."""
    incoming = ctx.incoming
    async with ctx.store.transaction() as db:
        await audit.add_audit(
            db, ctx.store.clock(), incoming.channel, incoming.user_key, action, "done"
        )


def split_service(ctx: Context, arg: str) -> tuple[QueueService, str] | None:
    """The service letter at the start of `arg` and the rest; None when there is no such letter."""
    letter, _, rest = arg.strip().partition(" ")
    service = ctx.content.queue.service(letter) if len(letter) == 1 else None
    return None if service is None else (service, rest.strip())


async def change_queue(
    ctx: Context, service: QueueService, change: Change, command: str
) -> list[Reply]:
    """Apply a change and confirm the new state, or say why it was refused."""
    desk = ctx.services.queue_desk()
    try:
        state = await desk.change(service.letter, change, actor(ctx), command)
    except QueueError as error:
        return [ctx.reply(ctx.t(error.key, **error.values), *queue_options(ctx))]
    text = ctx.t(
        "queue.done",
        letter=service.letter,
        name=service.name.get(ctx.lang),
        status=status_text(ctx, state),
    )
    return [ctx.reply(text, *queue_options(ctx))]


def usage(ctx: Context, key: str) -> list[Reply]:
    letters = ", ".join(ctx.content.queue.letters)
    return [ctx.reply(ctx.t(key, letters=letters), *queue_options(ctx))]


async def call_next_ticket(ctx: Context, arg: str) -> list[Reply]:
    """`/panggil A`: call the next number of service A."""
    found = split_service(ctx, arg)
    if found is None or found[1]:
        return usage(ctx, "queue.usage_call")
    return await change_queue(ctx, found[0], CallNext(), f"/panggil {arg}")


async def set_ticket_number(ctx: Context, arg: str) -> list[Reply]:
    """`/set A 25`: correct the number being served (it may go down)."""
    found = split_service(ctx, arg)
    if found is None or not found[1].isdecimal():
        return usage(ctx, "queue.usage_set")
    return await change_queue(ctx, found[0], SetNumber(int(found[1])), f"/set {arg}")


async def open_service(ctx: Context, arg: str) -> list[Reply]:
    """`/buka A`: open (or resume) service A."""
    found = split_service(ctx, arg)
    if found is None or found[1]:
        return usage(ctx, "queue.usage_status")
    return await change_queue(ctx, found[0], SetStatus("open"), f"/buka {arg}")


async def pause_service(ctx: Context, arg: str) -> list[Reply]:
    """`/jeda A [alasan]`: pause service A, with the reason residents will see."""
    return await _stop_service(ctx, arg, "paused", "/jeda")


async def close_service(ctx: Context, arg: str) -> list[Reply]:
    """`/tutup A [alasan]`: close service A for the day."""
    return await _stop_service(ctx, arg, "closed", "/tutup")


async def _stop_service(
    ctx: Context, arg: str, status: Literal["paused", "closed"], command: str
) -> list[Reply]:
    found = split_service(ctx, arg)
    if found is None:
        return usage(ctx, "queue.usage_status")
    service, reason = found
    change = SetStatus(status, reason[:MAX_REASON_CHARS] or None)
    return await change_queue(ctx, service, change, f"{command} {arg}")


async def manage_staff(ctx: Context, arg: str) -> list[Reply]:
    """`/staf tambah <id>` / `/staf hapus <id>`: an administrator edits the staff list;
    `/staf` alone lists it."""
    if ctx.incoming.role != "admin":
        return await refuse(ctx, f"/staf {arg}".strip(), "staff.admin_only")
    if not arg.strip():
        return [ctx.reply(await staff_list(ctx))]
    verb, _, user = arg.strip().lower().partition(" ")
    user = user.strip()
    if not user.isdecimal() or verb not in ADD_WORDS | REMOVE_WORDS:
        return [ctx.reply(ctx.t("staff.usage"))]
    channel, by = ctx.incoming.channel, ctx.incoming.user_key
    now = ctx.store.clock()
    async with ctx.store.transaction() as db:
        if verb in ADD_WORDS:
            changed = await users.add_staff(db, channel, user, by, now)
            key = "staff.added" if changed else "staff.already"
        else:
            changed = await users.remove_staff(db, channel, user)
            key = "staff.removed" if changed else "staff.not_staff"
        if changed:
            await audit.add_audit(db, now, channel, by, f"/staf {verb} {user}", "done")
    if changed:
        await ctx.services.staff_changed(channel, user, verb in ADD_WORDS)
    return [ctx.reply(ctx.t(key, user=user))]


async def staff_list(ctx: Context) -> str:
    """The staff on this channel, one a line (administrators come from the settings)."""
    staff = await users.list_staff(ctx.store.db, ctx.incoming.channel)
    if not staff:
        return ctx.t("staff.list_empty")
    return "\n".join([ctx.t("staff.list_title", count=len(staff)), *(f"- {u}" for u in staff)])
