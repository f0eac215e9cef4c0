"""The action ids buttons carry, in one place: "<prefix>" or "<prefix>:<argument>".

The assistant routes by prefix (handlers.ACTIONS); see each handler for its argument. Every id
must fit Telegram's 64-byte callback data (bot.core.MAX_ACTION_BYTES).
"""

from __future__ import annotations

MENU = "m"
CATEGORY = "c"  # c:<category>
TOPIC = "t"  # t:<topic id>
LANGUAGE = "lang"  # lang, lang:id, lang:en
QUEUE = "q"  # q, q:<ticket>
REMIND = "r"  # r:<ticket>
ANNOUNCEMENTS = "a"
SUBSCRIPTION = "s"  # s:+ subscribe, s:- stop
SUBSCRIBE = f"{SUBSCRIPTION}:+"
UNSUBSCRIBE = f"{SUBSCRIPTION}:-"  # broadcasts carry it too
OFFICER = "h"
CANCEL_HANDOVER = "hx"
FEEDBACK = "f"  # f:+:<topic>, f:-:<topic>
DRAFT = "ad"  # ad:skip, ad:cancel, ad:ok (staff only)
ERASE = "del"  # del:yes, del:no (/hapusdata)
SURVEY = "sv"  # sv, sv:<service><answers><profile>: see handlers/survey.py
SURVEY_DONE = "svd"  # close the survey (and its suggestion window), or "not now"
REMINDERS = "pg"  # pg, pg:d:<doc>, pg:y:<doc>:<year>, pg:m:<doc>:<year>:<month>, pg:x:<id>, pg:xa
