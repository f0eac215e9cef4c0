"""`make mutation`'s mutmut, without two kinds of string mutant no test can ever kill.

mutmut upper- and lower-cases every string. Two kinds of string do not care (BENCHMARKS.md,
"Surviving mutants judged equivalent"), and each such mutant survives, so it costs a run of
every test that reaches its function — a good part of the whole run:

- SQL written in the code (a statement, or a piece of one passed to `execute…`): SQLite's
  keywords, identifiers and function names are case-insensitive. Quoted literals ('call') and
  named parameters (:name, @name, $name) are not: a mutant that changes one is kept, and so is
  every case mutant of a piece with a `%` format or GLOB;
- the key of `row["…"]` in ROW_FILES, where `row` is always a `sqlite3.Row` (the store sets
  `row_factory`), which looks keys up case-insensitively.

Every other mutant is made as mutmut makes it. `python -m benchmarks.mutation_run ARGS` runs
`mutmut ARGS` with this filter (mutmut generates in forked processes, which inherit it).

One more saving: after a full stats run (a fresh `mutants/`), mutmut runs the same tests again,
unmutated, to check they pass ("clean tests"). The stats run has just done that — mutmut stops
when it fails — so the second pass is skipped then; after stats loaded from an earlier run
(`mutmut run "bot.outbox*"` while working) it still runs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import PurePath

import libcst as cst
import mutmut.__main__ as mutmut_main
from mutmut.mutation import file_mutation
from mutmut.workers.isolation import ForkRunner

SQL_START = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|DROP|ALTER|PRAGMA)\s")
EXECUTE = {"execute", "executemany", "executescript", "execute_fetchall", "execute_insert"}
# The parts of SQL whose case matters; a piece with these anywhere keeps all its mutants.
CASE_SENSITIVE_PART = re.compile(r"'[^']*'|\"[^\"]*\"|[:@$]\w+")
CASE_SENSITIVE_ANYWHERE = re.compile(r"%|\bglob\b", re.IGNORECASE)
# Where every `row` is a sqlite3.Row.
ROW_FILES = ("bot/store/", "bot/outbox.py", "bot/broadcast.py")


def string_parts(node: cst.CSTNode) -> list[cst.SimpleString]:
    """The literal pieces of a string expression (implicitly concatenated pieces included)."""
    if isinstance(node, cst.SimpleString):
        return [node]
    if isinstance(node, cst.ConcatenatedString):
        return string_parts(node.left) + string_parts(node.right)
    return []


def is_sql(node: cst.CSTNode) -> bool:
    parts = string_parts(node)
    return bool(parts) and SQL_START.match(str(parts[0].evaluated_value)) is not None


def same_but_for_case(sql: str, mutated: str) -> bool:
    """Whether `mutated` differs from `sql` only in the case of SQL that ignores case."""
    return (
        sql.lower() == mutated.lower()
        and CASE_SENSITIVE_ANYWHERE.search(sql) is None
        and CASE_SENSITIVE_PART.findall(sql) == CASE_SENSITIVE_PART.findall(mutated)
    )


class EquivalentCaseFilter(file_mutation.MutationVisitor):
    """mutmut's visitor, minus the case mutants of SQL pieces and of sqlite3.Row keys."""

    current_file = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # id of a string piece → whether it is SQL (else a sqlite3.Row key)
        self._case_free: dict[int, bool] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call):
            func = node.func
            if isinstance(func, cst.Attribute) and func.attr.value in EXECUTE and node.args:
                sql = node.args[0].value
                # " UNION ALL ".join(pieces): the joiner is SQL too
                if isinstance(sql, cst.Call) and isinstance(sql.func, cst.Attribute):
                    sql = sql.func.value
                self._mark(sql, sql=True)
        elif isinstance(node, (cst.SimpleString, cst.ConcatenatedString)) and is_sql(node):
            self._mark(node, sql=True)
        elif (
            isinstance(node, cst.Subscript)
            and isinstance(node.value, cst.Name)
            and node.value.value == "row"
            and self.current_file.startswith(ROW_FILES)
            and len(node.slice) == 1
            and isinstance(node.slice[0].slice, cst.Index)
        ):
            self._mark(node.slice[0].slice.value, sql=False)
        return super().on_visit(node)

    def _mark(self, node: cst.CSTNode, sql: bool) -> None:
        for piece in string_parts(node):
            if not piece.prefix:
                self._case_free[id(piece)] = sql

    def _create_mutations(self, node: cst.CSTNode) -> None:
        before = len(self.mutations)
        super()._create_mutations(node)
        if not isinstance(node, cst.SimpleString) or id(node) not in self._case_free:
            return
        sql = self._case_free[id(node)]
        self.mutations[before:] = [
            m
            for m in self.mutations[before:]
            if not isinstance(m.mutated_node, cst.SimpleString)
            or not (
                same_but_for_case(node.raw_value, m.mutated_node.raw_value)
                if sql
                else node.value.lower() == m.mutated_node.value.lower()
            )
        ]


_create_mutations = file_mutation.create_mutations


def create_mutations(filename: str, *args: object, **kwargs: object) -> object:
    EquivalentCaseFilter.current_file = PurePath(filename).as_posix()
    return _create_mutations(filename, *args, **kwargs)  # type: ignore[arg-type]


_run_stats_collection = mutmut_main.run_stats_collection
_run_clean_tests = ForkRunner.run_clean_tests
full_stats_run = False


def run_stats_collection(runner: object, tests: object = None) -> None:
    global full_stats_run
    _run_stats_collection(runner, tests)  # type: ignore[arg-type]
    full_stats_run = tests is None  # it exits the process when a test failed


def run_clean_tests(runner: ForkRunner, tests: Iterable[str]) -> int:
    return 0 if full_stats_run else _run_clean_tests(runner, tests)


def main() -> None:
    file_mutation.MutationVisitor = EquivalentCaseFilter  # type: ignore[misc]
    file_mutation.create_mutations = create_mutations  # type: ignore[assignment]
    mutmut_main.run_stats_collection = run_stats_collection
    ForkRunner.run_clean_tests = run_clean_tests  # type: ignore[method-assign,assignment]
    sys.argv[0] = "mutmut"
    mutmut_main.cli()


if __name__ == "__main__":
    main()
