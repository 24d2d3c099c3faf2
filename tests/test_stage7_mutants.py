"""Lesson 07's round-two checks teach: the right answers pass, each plausible wrong one gets its hint."""
import pytest

from workbook.checks import EXERCISES, FAILED, PASSED, load_all, run_check

from mutants.lesson_07_round_two import MUTANTS


def objects_of(mutant):
    load_all()
    namespace = {}
    exec(mutant.source, namespace)
    return [namespace[name] for name in EXERCISES[mutant.exercise].uses]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[f"{m.exercise}-{m.name}" for m in MUTANTS])
def test_round_two_mutants(mutant):
    visible = run_check(mutant.exercise, *objects_of(mutant))
    full = run_check(mutant.exercise, *objects_of(mutant), include_hidden=True)
    if mutant.passes:
        assert visible.status == full.status == PASSED, (visible.message, full.message)
    else:
        assert visible.status == FAILED, f"{mutant.name}: {visible.status} {visible.message}"
        assert mutant.hint in visible.message, f"{mutant.name}: {visible.message}"
        assert full.status == FAILED
