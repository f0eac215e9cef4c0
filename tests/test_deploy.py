"""The deployment files say what README "Operations" promises: the container runs as a user
other than root with its data on a volume and a health check on /healthz; the systemd units run
the bot and its nightly backup. (.ci/run also builds the image or verifies the units.)"""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"


def dockerfile() -> dict[str, list[str]]:
    """Each instruction's arguments, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found.setdefault(instruction.upper(), []).append(rest.strip())
    return found


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / name)
    return parser


def test_the_container_runs_as_a_user_other_than_root() -> None:
    [user] = dockerfile()["USER"]
    assert user not in ("root", "0", "")
    assert any("useradd" in run and user in run for run in dockerfile()["RUN"])


def test_the_containers_database_is_on_its_volume() -> None:
    instructions = dockerfile()
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(instructions["ENV"])))
    [volume] = instructions["VOLUME"]
    assert env["DATABASE_PATH"].startswith("/data/") and '"/data"' in volume
    assert env["HTTP_HOST"] == "0.0.0.0"  # reachable from outside the container


def test_the_container_checks_its_health_on_healthz() -> None:
    [check] = dockerfile()["HEALTHCHECK"]
    assert "/healthz" in check and "CMD" in check


def test_the_image_holds_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {shlex.split(c)[0] for c in dockerfile()["COPY"]}
    assert set(packages) | {"content"} <= copied
    assert ".env" in (ROOT / ".dockerignore").read_text().split()  # secrets stay out of the image


def test_the_service_unit_runs_the_bot_as_its_own_user_and_restarts_it() -> None:
    service = unit("ukkbot.service")["Service"]
    assert shlex.split(service["ExecStart"])[1:] == ["run"]
    assert service["User"] not in ("root", "")
    assert service["Restart"] == "on-failure" and service["RestartPreventExitStatus"] == "2"
    assert service["ReadWritePaths"] == service["WorkingDirectory"] + "/data"
    assert unit("ukkbot.service")["Install"]["WantedBy"] == "multi-user.target"


def test_the_timer_starts_a_nightly_backup() -> None:
    timer = unit("ukkbot-backup.timer")
    assert timer["Timer"]["OnCalendar"].endswith("02:00:00") and timer["Timer"]["Persistent"]
    backup = unit("ukkbot-backup.service")["Service"]
    assert backup["Type"] == "oneshot" and "ukkbot backup " in backup["ExecStart"]
