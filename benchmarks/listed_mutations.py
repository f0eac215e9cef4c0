"""The deliberate mutations issue 18 lists, each applied alone to a copy of the code, and the test
that must fail on it. `python -m benchmarks.listed_mutations [WORD]` (WORD picks the mutations
whose description contains it) prints killed / SURVIVED / cannot apply (the code moved: update
the mutation) per line; not part of `make test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("bot", "handlers", "tests", "content", "pyproject.toml")


@dataclass(frozen=True)
class Mutation:
    what: str
    file: str
    old: str
    new: str
    test: str


MUTATIONS = (
    Mutation(
        "estimate: a jump of several numbers is not divided per number",
        "bot/queue/estimate.py",
        " / 60 / (later.number - earlier.number)",
        " / 60",
        "tests/test_queue_state.py::test_a_jump_counts_as_that_many_numbers",
    ),
    Mutation(
        "estimate: a staff correction (set) counts as a call",
        "bot/queue/estimate.py",
        'if later.kind == "call" and later.number > earlier.number',
        "if later.number > earlier.number",
        "tests/test_queue_state.py::"
        "test_a_staff_correction_is_not_an_interval_and_the_pace_starts_afresh_after_it",
    ),
    Mutation(
        "estimate: the last ten intervals widened to all",
        "bot/queue/estimate.py",
        "recent = intervals[-RECENT_INTERVALS:]",
        "recent = intervals",
        "tests/test_queue_state.py::test_the_estimate_follows_the_median_of_the_last_ten_intervals_only",
    ),
    Mutation(
        "WhatsApp: 429 retries no longer capped",
        "bot/channels/whatsapp/sender.py",
        "if not retryable or attempt == MAX_SEND_ATTEMPTS - 1:",
        "if not retryable:",
        "tests/test_whatsapp.py::test_rate_limits_are_waited_out_five_times_at_most",
    ),
    Mutation(
        "WhatsApp: the template language always id",
        "bot/channels/whatsapp/render.py",
        '"language": {"code": lang}',
        '"language": {"code": "id"}',
        "tests/test_whatsapp.py::test_the_template_speaks_the_persons_chosen_language",
    ),
    Mutation(
        "WhatsApp: a queued resend never expires",
        "bot/channels/whatsapp/channel.py",
        "expires_at=now + RETRY_ANSWER_FOR,",
        "expires_at=None,",
        "tests/test_whatsapp.py::test_an_answer_queued_after_an_outage_is_dropped_after_an_hour",
    ),
    Mutation(
        "WhatsApp: after a partial failure all replies resent instead of the rest",
        "bot/channels/whatsapp/channel.py",
        "await self._retry_later(message, replies[i:], exc)",
        "await self._retry_later(message, replies, exc)",
        "tests/test_whatsapp.py::"
        "test_after_a_partial_failure_only_the_replies_not_yet_sent_are_resent",
    ),
    Mutation(
        "WhatsApp: reactions answered",
        "bot/channels/whatsapp/parse.py",
        'IGNORED_TYPES = frozenset({"reaction"})',
        "IGNORED_TYPES: frozenset[str] = frozenset()",
        "tests/test_whatsapp.py::test_a_reaction_is_not_answered",
    ),
    Mutation(
        "retention: the sweep keeps WhatsApp message ids",
        "bot/store/retention.py",
        "        await whatsapp.forget_old_ids(db, now)\n",
        "",
        "tests/test_store.py::test_the_sweep_forgets_whatsapp_ids_after_30_days_without_a_new_message",
    ),
    Mutation(
        "app: the health check always reports ok",
        "bot/app.py",
        'healthy = database == "ok" and disk == "ok"',
        "healthy = True",
        "tests/test_web.py::test_healthz_is_degraded_with_503_when_the_database_fails",
    ),
    Mutation(
        'answer: the "Maksud Anda…" buttons replaced by the fallback',
        "handlers/answer.py",
        'return [Reply(ctx.t("clarify"), (*options, ctx.menu_button()))]',
        'return [Reply(ctx.t("fallback"), main_menu(ctx))]',
        "tests/test_assistant.py::test_a_question_that_fits_several_topics_asks_which_one_was_meant",
    ),
    Mutation(
        "Telegram: no apology after a handler error",
        "bot/channels/telegram.py",
        'await self.send(update.effective_chat.id, [Reply(self.content.t("error", lang))])',
        "pass",
        "tests/test_telegram.py::test_a_failed_update_gets_an_apology_in_the_persons_language",
    ),
    Mutation(
        "queue: the board's wait range ignores the queue",
        "handlers/queue.py",
        "low, high = wait_range(waiting, view.per_number)",
        "low, high = wait_range(0, view.per_number)",
        "tests/test_queue_handlers.py::"
        "test_the_board_gives_a_wait_range_from_the_machines_count_of_waiting_tickets",
    ),
    Mutation(
        'queue: the "you are next" message replaced',
        "handlers/queue.py",
        'text = ctx.t("queue.ticket_next", ticket=ticket)',
        'text = ctx.t("queue.ticket_ahead", ticket=ticket, ahead=0, low=0, high=1)',
        "tests/test_queue_handlers.py::"
        "test_the_next_ticket_is_told_it_is_next_without_a_reminder_button",
    ),
    Mutation(
        "handover: Cancel does not stop the hand-over",
        "handlers/handover.py",
        "            await handovers.stop_waiting(db, handover.id)\n    return [Reply(",
        "            pass\n    return [Reply(",
        "tests/test_handover.py::"
        "test_the_cancel_button_stops_the_wait_so_the_next_message_is_a_question_again",
    ),
)


def run(mutation: Mutation, folder: Path) -> str:
    """Apply one mutation to a fresh copy and run its test: killed, SURVIVED or cannot apply."""
    for name in COPIED:
        source, target = ROOT / name, folder / name
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    path = folder / mutation.file
    code = path.read_text(encoding="utf-8")
    if code.count(mutation.old) != 1:
        return "cannot apply (the code changed)"
    path.write_text(code.replace(mutation.old, mutation.new), encoding="utf-8")
    env = os.environ | {"PYTHONPATH": str(folder)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", mutation.test],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 1:
        return "killed"
    if result.returncode == 0:
        return "SURVIVED"
    return f"error (pytest exit {result.returncode}): {result.stdout[-300:]}"


def main() -> int:
    word = sys.argv[1] if len(sys.argv) > 1 else ""
    survived = 0
    with tempfile.TemporaryDirectory(prefix="ukkbot-mutation-") as tmp:
        for mutation in (m for m in MUTATIONS if word in m.what):
            outcome = run(mutation, Path(tmp))
            survived += outcome != "killed"
            print(f"{outcome:>8}  {mutation.what}  ←  {mutation.test.split('::')[1]}", flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
