"""The staff statistics charts as PNG: questions and queue calls per day, and the survey's
nine element averages.

matplotlib's object API with the Agg canvas: no pyplot, no global figure state, no display.
matplotlib is imported on the first chart, not at start: importing it takes a while and, on a
fresh machine, builds a font cache and logs about it before the bot has said anything.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.store.stats import Week

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIZE_INCHES = (6.4, 3.6)
DPI = 100
BAR_WIDTH = 0.4


def _figure() -> Figure:
    """An empty figure on the Agg canvas (matplotlib imported here, on the first chart)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def week_chart(week: Week, labels: tuple[str, str, str]) -> bytes:
    """Bars of questions and calls for each of the seven days; `labels` are the title and the
    two series' names in the reader's language."""
    title, questions_label, calls_label = labels
    figure = _figure()
    axes = figure.add_subplot()
    positions = list(range(len(week.days)))
    questions = [week.questions.get(day, 0) for day in week.days]
    calls = [sum(s.calls.get(day, 0) for s in week.services) for day in week.days]
    axes.bar([p - BAR_WIDTH / 2 for p in positions], questions, BAR_WIDTH, label=questions_label)
    axes.bar([p + BAR_WIDTH / 2 for p in positions], calls, BAR_WIDTH, label=calls_label)
    axes.set_xticks(positions, [day.strftime("%d-%m") for day in week.days])
    axes.set_title(title)
    axes.legend()
    return _png(figure)


def skm_chart(averages: Sequence[float], title: str) -> bytes:
    """Bars of the nine survey element averages (U1-U9) on the 1-4 scale."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar([f"U{number}" for number in range(1, len(averages) + 1)], list(averages))
    axes.set_ylim(1, 4)
    axes.set_title(title)
    return _png(figure)
