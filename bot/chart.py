"""The staff statistics chart: questions and queue calls per day, as a PNG.

matplotlib's object API with the Agg canvas: no pyplot, no global figure state, no display.
matplotlib is imported on the first chart, not at start: importing it takes a while and, on a
fresh machine, builds a font cache and logs about it before the bot has said anything.
"""

from __future__ import annotations

import io

from bot.store.stats import Week

SIZE_INCHES = (6.4, 3.6)
DPI = 100
BAR_WIDTH = 0.4


def week_chart(week: Week, labels: tuple[str, str, str]) -> bytes:
    """Bars of questions and calls for each of the seven days; `labels` are the title and the
    two series' names in the reader's language."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    title, questions_label, calls_label = labels
    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(week.days)))
    questions = [week.questions.get(day, 0) for day in week.days]
    calls = [sum(s.calls.get(day, 0) for s in week.services) for day in week.days]
    axes.bar([p - BAR_WIDTH / 2 for p in positions], questions, BAR_WIDTH, label=questions_label)
    axes.bar([p + BAR_WIDTH / 2 for p in positions], calls, BAR_WIDTH, label=calls_label)
    axes.set_xticks(positions, [day.strftime("%d-%m") for day in week.days])
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
