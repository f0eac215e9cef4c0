"""The queue over HTTP: `GET /api/queue` for a display screen, `POST /api/queue/{service}` for
the ticket machine (bearer token QUEUE_API_TOKEN; without one the ingest answers 404).
"""

from __future__ import annotations

import hmac
from typing import Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.context import Services
from bot.guard import BadJson, read_json
from bot.queue.state import MAX_NUMBER, STATUSES, QueueError, Report
from bot.queue_desk import Actor, ServiceView

MACHINE = Actor("api", "queue-machine")
_FIELDS = frozenset({"now_serving", "last_issued", "status"})


def view_json(view: ServiceView) -> dict[str, Any]:
    state = view.state
    return {
        "service": view.service.letter,
        "name": {"id": view.service.name.id, "en": view.service.name.en},
        "started": view.started,
        "status": state.status,
        "reason": state.reason,
        "now_serving": state.now_serving,
        "last_issued": state.last_issued,
        "waiting": state.waiting,
        "minutes_per_number": round(view.per_number, 1),
    }


def parse_report(body: Any) -> Report | str:
    """The request body as a Report, or a one-line message saying what is wrong."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}; allowed: now_serving, last_issued, status"
    numbers: dict[str, int | None] = {}
    for field in ("now_serving", "last_issued"):
        value = body.get(field)
        wrong = (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_NUMBER
        )
        if value is not None and wrong:
            return f"{field} must be a whole number from 0 to {MAX_NUMBER}"
        numbers[field] = value
    now_serving = numbers["now_serving"]
    if now_serving is None:
        return "now_serving is required"
    status = body.get("status")
    if status is not None and status not in STATUSES:
        return f"status must be one of {', '.join(STATUSES)}"
    return Report(now_serving, numbers["last_issued"], status)


def _error(message: str, status_code: int, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status_code, headers=headers or None)


def queue_routes(services: Services, token: SecretStr | None) -> list[Route]:
    """The two queue endpoints."""
    expected = token.get_secret_value().encode() if token else b""

    async def show_board(request: Request) -> Response:
        desk = services.queue_desk()
        board = await desk.board()
        return JSONResponse(
            {"day": desk.today().isoformat(), "services": [view_json(v) for v in board]}
        )

    async def ingest(request: Request) -> Response:
        if not expected:
            return _error("queue ingest is disabled: QUEUE_API_TOKEN is not set", 404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            return _error("a valid bearer token is required", 401, **{"WWW-Authenticate": "Bearer"})
        letter = request.path_params["service"].upper()
        service = services.content.queue.service(letter) if len(letter) == 1 else None
        if service is None:
            letters = ", ".join(services.content.queue.letters)
            return _error(f"unknown service {letter[:8]!r}; services are {letters}", 422)
        try:
            body = await read_json(request)
        except BadJson as error:
            return _error(str(error), 422)
        report = parse_report(body)
        if isinstance(report, str):
            return _error(report, 422)
        desk = services.queue_desk()
        try:
            await desk.change(letter, report, MACHINE, f"POST /api/queue/{letter} {body}")
        except QueueError as error:
            return _error(services.content.t(error.key, "en", **error.values), 409)
        view = next(v for v in await desk.board() if v.service.letter == letter)
        return JSONResponse(view_json(view))

    return [
        Route("/api/queue", show_board, methods=["GET"]),
        Route("/api/queue/{service}", ingest, methods=["POST"]),
    ]
