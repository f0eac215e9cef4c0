"""The listed mutations (issue 18) must stay applicable: a refactor that moves the code one of
them changes would otherwise turn it into a silent "cannot apply"."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.listed_mutations import MUTATIONS, Mutation

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.what)
def test_each_listed_mutation_finds_its_code_once_and_names_a_real_test(
    mutation: Mutation,
) -> None:
    source = (ROOT / mutation.file).read_text(encoding="utf-8")
    assert source.count(mutation.old) == 1
    path, _, name = mutation.test.partition("::")
    assert f"def {name}(" in (ROOT / path).read_text(encoding="utf-8")
