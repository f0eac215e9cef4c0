"""`ukkbot run` as a subprocess against a local HTTP server that speaks the Bot API."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.conftest import CONTENT_DIR, ROOT, seed_cache
from tests.fake_telegram import BOT_USER, text_update

TOKEN = "123456:TEST"
DEADLINE_SECONDS = 30


class BotApiServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.pending = [text_update(1, 77, "/start")]
        self.sent: list[dict[str, Any]] = []
        self.got_reply = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: BotApiServer

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode()
        if "json" in (self.headers.get("content-type") or ""):
            params = json.loads(raw or "{}")
        else:
            params = {k: v[0] for k, v in parse_qs(raw).items()}
        method = self.path.rsplit("/", 1)[-1]
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method == "getUpdates":
            result, self.server.pending = self.server.pending, []
        elif method == "sendMessage":
            self.server.sent.append(params)
            self.server.got_reply.set()
            result = {
                "message_id": 1,
                "date": 0,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
            }
        body = json.dumps({"ok": True, "result": result}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    server = BotApiServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.subprocess
def test_run_answers_a_polled_update_through_send_message(
    bot_api: BotApiServer, tmp_path: Path
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{bot_api.server_address[1]}/bot",
        "CONTENT_DIR": str(CONTENT_DIR),
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "HTTP_PORT": str(free_port()),
    }
    seed_cache(tmp_path / "data")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert bot_api.got_reply.wait(DEADLINE_SECONDS), "no sendMessage arrived"
        message = bot_api.sent[0]
        assert str(message["chat_id"]) == "77"
        assert "UKK Kota Probolinggo" in message["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=DEADLINE_SECONDS)
    assert process.returncode == 0, stderr
    assert TOKEN not in stderr  # the token is never logged
    assert (tmp_path / "data" / "bot.sqlite3").exists()
