"""Settings and start-up errors: one line naming the setting, exit code 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from tests.conftest import CONTENT_DIR, ROOT


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def base_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "CONTENT_DIR": str(CONTENT_DIR),
    }


def test_bad_port_stops_start_up_with_one_line(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"HTTP_PORT": "abc"}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "HTTP_PORT" in result.stderr and "Traceback" not in result.stderr


def test_missing_content_dir_names_the_setting(tmp_path: Path) -> None:
    env = base_env(tmp_path) | {"CONTENT_DIR": str(tmp_path / "nope")}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("ukkbot: setting CONTENT_DIR:")
    assert "Traceback" not in result.stderr


def test_invalid_content_refuses_to_start_with_the_fault_list(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    subprocess.run(["cp", "-r", str(CONTENT_DIR), str(broken)], check=True)
    (broken / "topics" / "lokasi.yaml").write_text("id: lokasi\n", encoding="utf-8")
    env = base_env(tmp_path) | {"CONTENT_DIR": str(broken)}
    result = run_cli("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "content/topics/lokasi.yaml: title: Field required" in result.stderr
    assert "Traceback" not in result.stderr


def test_env_file_is_read_and_empty_values_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"HTTP_PORT=9090\nTELEGRAM_BOT_TOKEN=\nCONTENT_DIR={CONTENT_DIR}\n"
    )
    settings = load_settings()
    assert settings.HTTP_PORT == 9090 and settings.TELEGRAM_BOT_TOKEN is None


def test_secrets_are_not_shown_in_repr() -> None:
    settings = load_settings(CONTENT_DIR=CONTENT_DIR, TELEGRAM_BOT_TOKEN="123:hunter2")
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"TIMEZONE": "Mars/Base"}, "TIMEZONE"),
        ({"ADMIN_TELEGRAM_IDS": "12,abc"}, "ADMIN_TELEGRAM_IDS"),
        ({"TELEGRAM_WEBHOOK_URL": "ftp://x"}, "TELEGRAM_WEBHOOK_URL"),
        ({"TELEGRAM_WEBHOOK_URL": "https://x.example/hook"}, "TELEGRAM_WEBHOOK_SECRET"),
        ({"HTTP_PORT": "70000"}, "HTTP_PORT"),
        ({"ALLOWED_ORIGINS": "https://mpp.example.go.id/chat"}, "ALLOWED_ORIGINS"),
        ({"ALLOWED_ORIGINS": "*"}, "ALLOWED_ORIGINS"),
    ],
)
def test_each_bad_setting_is_named(overrides: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}: "):
        load_settings(CONTENT_DIR=CONTENT_DIR, **overrides)


def test_allowed_origins_are_a_comma_separated_list() -> None:
    settings = load_settings(
        CONTENT_DIR=CONTENT_DIR, ALLOWED_ORIGINS="https://a.example.go.id, http://localhost:8000"
    )
    assert settings.ALLOWED_ORIGINS == ["https://a.example.go.id", "http://localhost:8000"]
