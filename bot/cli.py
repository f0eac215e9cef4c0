"""The `ukkbot` command: run, chat, ask, questions, backup, restore, export, skm report,
content check|show|report."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Coroutine, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.config import SettingsError, StartupError, load_settings
from bot.content import ContentError, check_content, load_content, report_content
from bot.core import Lang, Reply
from bot.markup import to_plain
from bot.store.db import StoreError

EXIT_USAGE = 2
EXIT_STARTUP = 1  # the database or the port, not the settings: see the one-line message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"ukkbot: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ukkbot", description="Assistant of the UKK Kota Probolinggo")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("run", help="serve the web chat and every configured channel")
    sub.add_parser("chat", help="chat in the terminal")
    ask = sub.add_parser("ask", help="answer questions as the bot would")
    ask.add_argument("text", nargs="?", help="the question")
    ask.add_argument(
        "--lang", choices=["id", "en"], help="language when the question gives no clue"
    )
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument("--batch", metavar="FILE", help="one question a line; - for standard input")
    questions = sub.add_parser("questions", help="top questions the bot could not answer outright")
    questions.add_argument("--limit", type=int, default=30)
    backup = sub.add_parser("backup", help="copy the database while the bot runs")
    backup.add_argument("path", type=Path, help="the new backup file")
    restore = sub.add_parser("restore", help="replace the database by a backup (bot stopped)")
    restore.add_argument("path", type=Path, help="the backup file")
    export = sub.add_parser("export", help="everything kept about one person, as JSON")
    export.add_argument("channel", help="telegram, whatsapp or web")
    export.add_argument("key", help="their Telegram id, WhatsApp number or web session")
    content = sub.add_parser("content", help="check, preview and report on content")
    csub = content.add_subparsers(dest="action", required=True, parser_class=_Parser)
    check = csub.add_parser("check", help="validate the content folder")
    check.add_argument("dir", nargs="?", type=Path)
    show = csub.add_parser("show", help="a topic as a person sees it")
    show.add_argument("id")
    show.add_argument("--lang", choices=["id", "en"], default="id")
    show.add_argument("--dir", type=Path)
    report = csub.add_parser("report", help="unverified facts and topics due for review")
    report.add_argument("--dir", type=Path)
    skm = sub.add_parser("skm", help="the satisfaction survey (SKM)")
    ssub = skm.add_subparsers(dest="action", required=True, parser_class=_Parser)
    skm_report = ssub.add_parser("report", help="the index per month and service, and a CSV")
    skm_report.add_argument("--from", dest="first", required=True, type=_day, metavar="YYYY-MM-DD")
    skm_report.add_argument("--to", dest="last", required=True, type=_day, metavar="YYYY-MM-DD")
    skm_report.add_argument("--csv", type=Path, metavar="FILE", help="also write the rows here")
    return parser


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _content_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    return load_settings().CONTENT_DIR


def _print_faults(error: ContentError, out: TextIO) -> None:
    for fault in error.faults:
        print(fault, file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    try:
        if args.command == "content":
            return _content(args)
        if args.command == "ask":
            return _ask(args)
        if args.command == "questions":
            return asyncio.run(_top_questions(args.limit))
        if args.command in ("backup", "restore"):
            return _backup_or_restore(args.command, args.path)
        if args.command == "export":
            return asyncio.run(_export(args.channel, args.key))
        if args.command == "skm":
            return asyncio.run(_skm_report(args.first, args.last, args.csv))
        return _run_loop(_serve(args.command))
    except SettingsError as exc:
        print(f"ukkbot: setting {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StartupError as exc:
        print(f"ukkbot: cannot start: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    except (StoreError, sqlite3.Error) as exc:
        # questions, export, skm: the database cannot be opened or read (corrupt, locked).
        print(f"ukkbot: {args.command}: DATABASE_PATH: {exc}", file=sys.stderr)
        return EXIT_STARTUP
    except ContentError as exc:
        print("ukkbot: the content has faults; fix them and start again:", file=sys.stderr)
        _print_faults(exc, sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 0
    except BrokenPipeError:  # `ukkbot content show … | head` closed the pipe: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run_loop(main: Coroutine[Any, Any, int]) -> int:
    """Run the server or the console on uvloop where it is installed (not on Windows)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


async def _serve(command: str) -> int:
    from bot.app import build_app, serve
    from bot.channels.console import run_console

    settings = load_settings()
    if command == "run":
        await serve(settings)
        return 0
    logging.getLogger().setLevel(logging.WARNING)
    app = await build_app(settings, channels=())
    try:
        await run_console(app.assistant)
    finally:
        await app.close()
    return 0


async def _top_questions(limit: int) -> int:
    """Print the questions to turn into sample questions: count, route, normalised text."""
    from bot.store import Store, questions

    store = await Store.open(load_settings().DATABASE_PATH)
    try:
        for q in await questions.top_questions(store.db, store.clock(), limit):
            print(f"{q.count:5}  {q.route:8}  {q.normalised}")
    finally:
        await store.close()
    return 0


async def _export(channel: str, key: str) -> int:
    """Print one person's data (a request under UU 27/2022 Pasal 7) as one JSON object."""
    from bot.store import Store
    from bot.store.personal import export_person

    store = await Store.open(load_settings().DATABASE_PATH)
    try:
        data = await export_person(store.reader, channel, key)
    finally:
        await store.close()
    person = {"channel": channel, "key": key}
    print(json.dumps({"person": person, "data": data}, ensure_ascii=False, indent=2))
    return 0


def _backup_or_restore(command: str, path: Path) -> int:
    from bot.store.backup import BackupError, backup, restore

    database = load_settings().DATABASE_PATH
    try:
        if command == "backup":
            backup(database, path)
            print(f"{database} -> {path}")
            return 0
        kept = restore(path, database, dt.datetime.now())
    except BackupError as exc:
        print(f"ukkbot: {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    print(f"{path} -> {database}")
    return 0


async def _skm_report(first: dt.date, last: dt.date, csv_path: Path | None) -> int:
    """Print the satisfaction index per month and service from `first` to `last`."""
    from bot.skm import report_lines, report_rows, write_csv
    from bot.store import Store
    from bot.store.survey import responses

    if first > last:
        print("ukkbot: error: argument --to: before --from", file=sys.stderr)
        return EXIT_USAGE
    store = await Store.open(load_settings().DATABASE_PATH)
    try:
        rows = report_rows(await responses(store.db, first, last))
    finally:
        await store.close()
    for line in report_lines(rows):
        print(line)
    if csv_path is not None:
        with csv_path.open("w", encoding="utf-8", newline="") as out:
            write_csv(rows, out)
    return 0


def _content(args: argparse.Namespace) -> int:
    if args.action == "check":
        root = _content_dir(args.dir)
        faults = check_content(root)
        for fault in faults:
            print(fault)
        if not faults:
            print(f"{root}: ok")
        return 1 if faults else 0
    content = load_content(_content_dir(args.dir))
    if args.action == "show":
        topic = content.topics.get(args.id)
        if topic is None:
            print(f"ukkbot: no topic {args.id!r}", file=sys.stderr)
            return 1
        print(to_plain(content.topic_text(topic, args.lang)))
        return 0
    lines = report_content(content, dt.date.today())
    for line in lines:
        print(line)
    return 0


def _questions(args: argparse.Namespace) -> Iterable[str]:
    if args.batch is None:
        if not args.text:
            raise SystemExit("ukkbot: error: give a question or --batch FILE")
        yield args.text
        return
    stream = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    with stream:
        for line in stream:
            if line.strip():
                yield line.rstrip("\n")


def _answer_text(replies: list[Reply]) -> str:
    """The replies as plain text, each followed by its topic buttons as a list (the related
    topics under an answer, the choices of a clarifying question)."""
    texts = []
    for reply in replies:
        topics = [f"- {option.label}" for option in reply.options if option.id.startswith("t:")]
        texts.append(to_plain("\n".join([reply.text, *topics])))
    return "\n\n".join(texts)


def _ask(args: argparse.Namespace) -> int:
    return asyncio.run(_ask_all(args))


async def _ask_all(args: argparse.Namespace) -> int:
    """Answer each question as the bot would, without a channel: `--lang` acts like /bahasa."""
    from bot.context import Context, open_services
    from bot.core import Incoming
    from handlers.answer import answer_text

    # A throw-away database: topic views here must not count in /statistik.
    services = await open_services(load_settings(), database=":memory:")
    default: Lang = args.lang or "id"
    try:
        for question in _questions(args):
            incoming = Incoming("cli", "cli", "cli", text=question)
            ctx = Context(incoming, default, services, lang_chosen=args.lang is not None)
            answered = await answer_text(ctx, question, count=False)
            text = _answer_text(answered.replies)
            if args.json:
                analysis = answered.analysis
                record = {
                    "route": analysis.route,
                    "topic_id": analysis.topic_id,
                    "candidates": list(analysis.candidates),
                    "lang": answered.lang,
                    "text": text,
                }
                print(json.dumps(record, ensure_ascii=False))
            else:
                print(text)
    finally:
        await services.store.close()
    return 0
