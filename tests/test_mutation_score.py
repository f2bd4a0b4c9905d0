"""tools/mutation_score.py: the score of `make mutate`, and when it fails (CONTRIBUTING.md, "Mutation testing")."""

import importlib.util
import json
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location("mutation_score", Path(__file__).parents[1] / "tools" / "mutation_score.py")
mutation_score = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(mutation_score)


def results(tmp_path, codes, listed=""):
    """A mutants/ folder with one core module's exit codes, and an equivalents list."""
    (tmp_path / "mutants" / "emlib").mkdir(parents=True)
    (tmp_path / "mutants" / "emlib" / "steps.py.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "mutation_equivalent.txt").write_text(listed)
    return tmp_path


KILLED = {f"emlib.steps.x_f__mutmut_{i}": 1 for i in range(1, 20)}


def test_all_killed_or_listed_passes_and_prints_the_score(tmp_path, capsys):
    root = results(tmp_path, {**KILLED, "emlib.steps.x_f__mutmut_20": 0},
                   "emlib.steps.x_f__mutmut_20 einsum subscripts in upper case name the same contraction\n")
    assert mutation_score.main([], root) == 0
    assert "core                              19         0         0       1        0      0  100.0%" in capsys.readouterr().out


def test_an_unlisted_survivor_fails(tmp_path):
    assert mutation_score.main([], results(tmp_path, {**KILLED, "emlib.steps.x_f__mutmut_20": 0})) == 1


@pytest.mark.parametrize("listed", ["emlib.steps.x_f__mutmut_3 was a survivor once\n",
                                    "emlib.steps.x_gone__mutmut_1 its function is gone\n"])
def test_a_listed_mutant_that_no_longer_survives_fails(tmp_path, capsys, listed):
    assert mutation_score.main(["--survivors"], results(tmp_path, KILLED, listed)) == 1
    assert "no longer survive" in capsys.readouterr().out


def test_an_accepted_survivor_counts_against_the_score(tmp_path, capsys):
    root = results(tmp_path, {**{f"emlib.steps.x_f__mutmut_{i}": 1 for i in range(1, 19)},
                              "emlib.steps.x_f__mutmut_19": 0, "emlib.steps.x_f__mutmut_20": 0},
                   "emlib.steps.x_f__mutmut_19 NOT EQUIVALENT, ACCEPTED: a cap no test reaches\n"
                   "emlib.steps.x_f__mutmut_20 NOT EQUIVALENT, ACCEPTED: another\n")
    assert mutation_score.main([], root) == 1                      # 18 of 20: 90 %, below the target
    out = capsys.readouterr().out
    assert "90.0%" in out
