"""The grader's red team: every attack a determined student tried, graded in ONE batch with the honest work.

One folder holds an honest submission, a stub, and one hostile submission per attack class (plus
a classmate graded last, whom several attacks try to reach); `python -m emlib.course.grade` grades
it once (module fixture). Each test asserts that its attack earns no marks (or is withheld as
"needs review" with the evidence), that the other submissions' marks and files are unchanged, and
that the course tree is unchanged. The sandbox needs `unshare` and root or user namespaces.
"""

from __future__ import annotations

import csv
import hashlib
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

import emlib
from emlib.course import grade
from emlib.course.grading import sandbox

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISE = ROOT / "exercises" / "03_e_step.ipynb"
TASKS = ["logsumexp_rows", "e_step"]

pytestmark = pytest.mark.skipif(sandbox.isolation_mode() not in ("root", "user"),
                                reason="no sandbox here (needs unshare with root or user namespaces)")

LSE = """def logsumexp_rows(a):
    a_max = np.max(a, axis=1)
    return a_max + np.log(np.sum(np.exp(a - a_max[:, None]), axis=1))"""
ESTEP = """def e_step(X, mixture):
    a = mixture.weighted_logpdf(X)
    top = a.max(axis=1, keepdims=True)
    log_px = top[:, 0] + np.log(np.sum(np.exp(a - top), axis=1))
    return np.exp(a - log_px[:, None]), float(np.sum(log_px))"""


def _exercise():
    return nbformat.read(EXERCISE, as_version=4)


def notebook(lse=None, estep=None, before=(), after=()):
    """Exercise 03 cut to its set-up, task and check cells; the tasks' cells replaced when given;
    attack cells inserted after the set-up (``before``) or at the end (``after``)."""
    nb = _exercise()
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup, lse_cell, lse_check, e_cell, e_check = code[0], code[2], code[3], code[4], code[5]
    if lse is not None:
        lse_cell = new_code_cell(lse)
    if estep is not None:
        e_cell = new_code_cell(estep)
    nb.cells = ([setup] + [new_code_cell(s) for s in before] + [lse_cell, lse_check, e_cell, e_check]
                + [new_code_cell(s) for s in after])
    return nb


def _tree_digest(*folders) -> str:
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _nobody_processes() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "status").read_text().split("Uid:")[1].split()[0] == str(sandbox.SANDBOX_UID):
                    out.append(int(entry.name))
            except (OSError, IndexError):
                pass
    return out


def attacks(victim: Path, grades_csv: Path) -> dict[str, tuple[str, object]]:
    """Every attack: name -> (file name relative to the submissions folder, notebook or bytes)."""
    v, g, root = str(victim), str(grades_csv), str(ROOT)
    emlib_dir = str(Path(emlib.__file__).resolve().parent)
    forged = ("import json, re, glob, os, numpy as np\nos.makedirs('answers', exist_ok=True)\n"
              "for nbf in glob.glob('*.ipynb'):\n"             # the old grader named its verdict log in its cell
              "    for path in set(re.findall(r'[\\w/.-]*grader-[0-9a-f]+\\.jsonl', open(nbf).read())):\n"
              "        for t in ['logsumexp_rows', 'e_step']:\n"
              "            open(path, 'a').write(json.dumps({'task': t, 'passed': True, 'message': 'ok', "
              "'function': t, 'source': 'grader'}) + '\\n')\n"
              "for t in ['logsumexp_rows', 'e_step']:\n"
              "    json.dump({'task': t, 'answers': {}, 'calls': {}, 'notes': []}, open(f'answers/answers-{t}.json', 'w'))\n"
              "    np.savez(f'answers/answers-{t}.npz')\n"
              "open('status.json', 'w').write('{\"status\": \"completed\", \"tasks\": {}}')\n"
              "for t in ['logsumexp_rows', 'e_step']:\n"
              "    open('notebook-checks.jsonl', 'a').write(json.dumps({'task': t, 'passed': True, 'message': 'ok', "
              "'function': t, 'source': 'notebook'}) + '\\n')\n")
    return {
        # --- forging the verdict ---------------------------------------------------------------
        "registry_evaluate": ("c01_03_e_step.ipynb", notebook(before=[
            "import emlib.course.checks as C\nfrom emlib.course.checks._feedback import CheckResult\n"
            "for t, chk in C.registry().items():\n"
            "    chk.evaluate = lambda fn, cases=None, t=t: CheckResult(t, True, 'correct.')"])),
        "clear_cases": ("c02_03_e_step.ipynb", notebook(before=[
            "from emlib.course.checks import estep\nestep.E_CASES.clear()\nestep.LSE_CASES.clear()"])),
        "input_transformer": ("c03_03_e_step.ipynb", notebook(after=[
            "import re\n"
            "def rewrite(lines):\n"
            "    src = ''.join(lines)\n"
            "    if 'grade_namespace' not in src and 'run_task' not in src:\n"
            "        return lines\n"
            "    log = re.search(r\"'([^']*grader-[0-9a-f]+[.]jsonl)'\", src)\n"
            "    if log is None:\n"
            "        return ['print(\"passed\")\\n']\n"
            "    return ['import json\\n', f'for t in [\"logsumexp_rows\", \"e_step\"]:\\n', "
            "f'    open({log.group(1)!r}, \"a\").write(json.dumps(dict(task=t, passed=True, message=\"ok\", "
            "function=t)) + chr(10))\\n']\n"
            "get_ipython().input_transformers_post.append(rewrite)"])),
        "wrapper_of_emlib": ("c04_03_e_step.ipynb", notebook(
            lse="import scipy.special\ndef logsumexp_rows(a):\n    return scipy.special.logsumexp(a, axis=1)",
            estep="import emlib\ndef e_step(X, mixture):\n    return emlib.e_step(X, mixture)")),
        "hidden_wrapper": ("c05_03_e_step.ipynb", notebook(
            lse="def logsumexp_rows(a):\n    import sys\n    sys.setprofile(None)\n"
                "    f = getattr(__import__('scipy.special', fromlist=['x']), 'logsum' + 'exp')\n"
                "    return f(a, axis=1)",
            estep="_f = getattr(__import__('emlib'), 'e_' + 'step')\ndef e_step(X, mixture):\n    return _f(X, mixture)")),
        "reference_attribute": ("c06_03_e_step.ipynb", notebook(before=[
            "from emlib.course.checks import _feedback, check_e_step, check_logsumexp_rows\n"
            "logsumexp_rows_ref = getattr(check_logsumexp_rows, 'reference', None) or "
            "_feedback.spec('logsumexp_rows').reference\n"
            "e_step_ref = getattr(check_e_step, 'reference', None) or _feedback.spec('e_step').reference"],
            lse="def logsumexp_rows(a):\n    return logsumexp_rows_ref(a)",
            estep="def e_step(X, mixture):\n    return e_step_ref(X, mixture)")),
        "exec_solutions": ("c07_03_e_step.ipynb", notebook(after=[
            "import json, glob, os\nimport emlib as _e\n"
            f"roots = [{root!r}, os.path.dirname(os.path.dirname(_e.__file__)), '/work/main', os.getcwd() + '/..']\n"
            "for r in roots:\n"
            "    for p in glob.glob(r + '/solutions/03_e_step.ipynb'):\n"
            "        cells = json.load(open(p))['cells']\n"
            "        exec('\\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code' "
            "and ''.join(c['source']).startswith('def ')))"])),
        "forged_log_then_exit": ("c08_03_e_step.ipynb", notebook(after=[forged + "import os\nos._exit(0)"])),
        "forged_files_then_kill_worker": ("c09_03_e_step.ipynb", notebook(after=[
            forged + "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"])),
        "forged_correct_answers": ("c10_03_e_step.ipynb", notebook(after=[
            "import json, os, time, numpy as np, emlib\n"
            "from emlib.course.grading import wire\n"
            "def forge():\n"
            "    while not os.path.exists('inputs.npz'):\n"
            "        time.sleep(0.01)\n"
            "    time.sleep(0.2)\n"
            "    spec = json.load(open('inputs.json'))\n    arrays = dict(np.load('inputs.npz'))\n"
            "    out = {}\n"
            "    for task, fn in (('logsumexp_rows', emlib.mixture.logsumexp_rows), ('e_step', emlib.e_step)):\n"
            "        enc = wire.Encoder()\n"
            "        answers = {c['key']: {'ok': enc.encode(fn(*[wire.decode(a, arrays, lambda cls, at: "
            "emlib.Mixture(at['weights'], at['means'], at['covariances'])) for a in c['args']]))} "
            "for c in spec['tasks'][task]}\n"
            "        out[task] = ({'task': task, 'answers': answers, 'calls': {}, 'notes': []}, enc.arrays)\n"
            "    while not os.path.exists('answers/answers-e_step.json'):\n"
            "        time.sleep(0.005)\n"
            "    for task, (payload, arrays) in out.items():\n"
            "        wire.write(f'answers/answers-{task}', payload, arrays)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    try:\n        forge()\n    finally:\n        os._exit(0)"])),
        # --- beyond the student's own mark -----------------------------------------------------------
        "proc_and_classmates": ("c11_03_e_step.ipynb", notebook(after=[
            "import os\nseen = []\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        try:\n"
            "            seen.append(open(f'/proc/{pid}/cmdline').read())\n"
            "            for name in os.listdir(f'/proc/{pid}/cwd'):\n"
            "                if name.lower().endswith('.ipynb') and 'c11' not in name:\n"
            "                    open(f'/proc/{pid}/cwd/{name}', 'w').write('{}')\n"
            "        except OSError:\n"
            "            pass\n"
            f"for p in [{v!r}, {g!r}]:\n"
            "    try:\n        open(p, 'a').write('hacked,03_e_step,TOTAL,2,2\\n')\n    except OSError:\n        pass"])),
        "rewrite_later_student": ("c12_03_e_step.ipynb", notebook(after=[
            f"import shutil\ntry:\n    open({v!r}, 'w').write(open('submission.ipynb').read())\nexcept OSError as e:\n"
            "    print(e)"])),
        "setsid_daemon": ("c13_03_e_step.ipynb", notebook(after=[
            "import subprocess, sys, os\n"
            f"targets = [{v!r}, {g!r}]\n"
            "code = ('import time\\n'\n"
            "        'for i in range(1200):\\n'\n"
            "        f'    for p in {targets!r}:\\n'\n"
            "        '        try:\\n'\n"
            "        '            open(p, \"a\").write(\"x\")\\n'\n"
            "        '        except OSError:\\n'\n"
            "        '            pass\\n'\n"
            "        '    time.sleep(0.05)\\n')\n"
            "subprocess.Popen([sys.executable, '-c', code], start_new_session=True, stdout=subprocess.DEVNULL, "
            "stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        exec(code)\n    os._exit(0)"])),
        "edit_installed_emlib": ("c14_03_e_step.ipynb", notebook(after=[
            "import os, emlib\n"
            f"targets = [os.path.join(os.path.dirname(emlib.__file__), 'course', 'checks', 'estep.py'), "
            f"{emlib_dir + '/course/checks/estep.py'!r}, {root + '/solutions/03_e_step.ipynb'!r}, "
            "'/work/main/emlib/course/checks/estep.py']\n"
            "for t in targets:\n"
            "    try:\n        open(t, 'a').write('\\n# hacked\\n')\n    except OSError as e:\n        print(t, e)"])),
        "memory_4gib": ("c15_03_e_step.ipynb", notebook(
            lse=LSE, estep=ESTEP.replace("    a = mixture", "    big = np.ones(2**29)\n    a = mixture"),
            before=["import numpy as np\nbig = np.ones(2**29)"])),
        "keyboard_interrupt_in_a_task": ("c16_03_e_step.ipynb", notebook(
            lse="def logsumexp_rows(a):\n    raise KeyboardInterrupt", estep=ESTEP)),
        "os_exit_in_a_task": ("c17_03_e_step.ipynb", notebook(
            lse="import os\ndef logsumexp_rows(a):\n    os._exit(1)", estep=ESTEP)),
        "endless_loop_in_a_task": ("c18_03_e_step.ipynb", notebook(
            lse="def logsumexp_rows(a):\n    while True:\n        pass", estep=ESTEP)),
        "endless_loop_in_a_cell": ("c19_03_e_step.ipynb", notebook(lse=LSE, estep=ESTEP, after=["while True:\n    pass"])),
        "many_processes_and_a_big_file": ("c20_03_e_step.ipynb", notebook(after=[
            "import subprocess\nprocs = []\ntry:\n    for _ in range(400):\n"
            "        procs.append(subprocess.Popen(['sleep', '600'], start_new_session=True))\n"
            "except OSError as e:\n    raise RuntimeError(f'stopped after {len(procs)} processes: {e}')",
            "with open('big.bin', 'wb') as fh:\n    for _ in range(2000):\n        fh.write(b'0' * 1_000_000)"])),
        "symlinked_answers": ("c21_03_e_step.ipynb", notebook(after=[
            "import os, signal\nos.makedirs('answers', exist_ok=True)\n"
            "for name in ['answers/answers-e_step.json', 'answers/answers-e_step.npz', 'status.json']:\n"
            "    try:\n        os.remove(name)\n    except OSError:\n        pass\n"
            "    os.symlink('/etc/shadow', name)\n"
            "os.kill(os.getppid(), signal.SIGKILL)"])),
        # --- inputs and outputs ----------------------------------------------------------------
        "renamed_to_another_exercise": ("c22_04_m_step.ipynb", notebook(lse=LSE, estep=ESTEP)),
        "subfolder_upper_case": ("deep/er/c23_03_e_step.IPYNB", notebook(lse=LSE, estep=ESTEP)),
        "not_a_notebook": ("c24_03_e_step.ipynb", b"\x00\x01 not a notebook {"),
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("redteam")
    folder = base / "submissions"
    folder.mkdir()
    victim = folder / "zz_victim_03_e_step.ipynb"
    out = base / "grades" / "grades.csv"
    out.parent.mkdir()
    out.write_text("an earlier run's grades\n")
    subs = {"honest": ("a_honest_03_e_step.ipynb", notebook(lse=LSE, estep=ESTEP)),
            "stub": ("b_stub_03_e_step.ipynb", notebook()),
            "victim": (victim.name, notebook(lse=LSE, estep=ESTEP))}
    subs.update(attacks(victim, out.with_name("grades-2.csv")))
    paths = {}
    for key, (name, content) in subs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
        paths[key] = path
    (folder / "link_03_e_step.ipynb").symlink_to("/etc/passwd")
    (folder / "notes.txt").write_text("not a notebook")
    digests = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}
    tree = _tree_digest(ROOT / "emlib", ROOT / "solutions", ROOT / "exercises")
    started = time.monotonic()
    status = grade.main([str(folder), "--out", str(out), "--solutions", str(SOLUTIONS), "--timeout", "30",
                         "--task-timeout", "10", "--jobs", "2"])
    elapsed = time.monotonic() - started
    time.sleep(2)                                   # a surviving daemon would write in this time
    written = out.with_name("grades-2.csv")
    rows = list(csv.DictReader(open(written, encoding="utf-8")))
    display = {k: str(Path(folder.name) / subs[k][0]) for k in subs}
    by = {(r["submission"], r["task"]): r for r in rows}
    return dict(status=status, rows=rows, by=by, display=display, paths=paths, digests=digests, tree=tree,
                out=out, written=written, elapsed=elapsed, folder=folder)


def marks(run, key):
    return [int(run["by"][(run["display"][key], t)]["points"]) for t in TASKS]


def statuses(run, key):
    return [run["by"][(run["display"][key], t)]["status"] for t in TASKS]


def reasons(run, key):
    return " | ".join(run["by"][(run["display"][key], t)]["reason"] for t in TASKS)


def notes(run, key):
    return run["by"][(run["display"][key], "TOTAL")]["reason"]


def assert_no_harm(run):
    """Other submissions' marks and files unchanged, the course tree unchanged, nothing left running."""
    assert marks(run, "honest") == [1, 1] and marks(run, "victim") == [1, 1]
    assert marks(run, "stub") == [0, 0]
    for key, path in run["paths"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == run["digests"][key], key
    assert _tree_digest(ROOT / "emlib", ROOT / "solutions", ROOT / "exercises") == run["tree"]
    assert not _nobody_processes()


def no_marks(run, key):
    assert marks(run, key) == [0, 0], reasons(run, key)
    assert_no_harm(run)


def withheld_for_review(run, key):
    assert marks(run, key) == [0, 0], reasons(run, key)
    assert statuses(run, key) == ["needs review", "needs review"], reasons(run, key)
    assert_no_harm(run)


# --- the baseline ------------------------------------------------------------------------------

def test_honest_work_gets_full_marks_and_a_stub_zero(run):
    assert run["status"] == 0
    assert marks(run, "honest") == [1, 1] and statuses(run, "honest") == ["passed", "passed"]
    assert marks(run, "stub") == [0, 0] and "not implemented yet" in reasons(run, "stub")


def test_the_batch_runs_in_reasonable_time(run):
    assert run["elapsed"] < 600


# --- forging the verdict ---------------------------------------------------------------------------

def test_replacing_evaluate_on_the_registry_earns_nothing(run):
    no_marks(run, "registry_evaluate")
    assert "not implemented yet" in reasons(run, "registry_evaluate")


def test_clearing_the_case_lists_earns_nothing(run):
    no_marks(run, "clear_cases")
    assert "not implemented yet" in reasons(run, "clear_cases")


def test_an_input_transformer_that_rewrites_the_grading_cell_earns_nothing(run):
    no_marks(run, "input_transformer")
    assert "no answers" in reasons(run, "input_transformer")


def test_a_wrapper_around_emlib_is_withheld_for_review_with_the_evidence(run):
    withheld_for_review(run, "wrapper_of_emlib")
    text = reasons(run, "wrapper_of_emlib")
    assert "called emlib.steps.e_step" in text and "scipy.special._logsumexp.logsumexp" in text


def test_a_hidden_wrapper_that_removes_the_recorder_is_withheld_for_review(run):
    withheld_for_review(run, "hidden_wrapper")
    text = reasons(run, "hidden_wrapper")
    assert "recorder was removed" in text and "called emlib.steps.e_step" in text


def test_the_reference_is_not_on_the_check_and_using_it_is_withheld(run):
    from emlib.course.checks import check_e_step

    assert not hasattr(check_e_step, "reference")
    withheld_for_review(run, "reference_attribute")
    assert "emlib.course.checks" in reasons(run, "reference_attribute")


def test_exec_of_the_solution_cells_finds_no_solutions(run):
    """The grader's own solutions are hidden; another copy of the course elsewhere on the machine (here
    /work/main when the suite runs in a clone) is readable unless hidden with --hide, so reading it is
    caught by the scan and withheld for review: no marks either way."""
    no_marks(run, "exec_solutions")
    why = reasons(run, "exec_solutions")
    assert "not implemented yet" in why or ("needs review" in why and "/solutions/03_e_step.ipynb" in why), why


def test_a_forged_log_and_os_exit_earn_nothing(run):
    no_marks(run, "forged_log_then_exit")
    assert "kernel died" in notes(run, "forged_log_then_exit")
    assert "not implemented yet" in reasons(run, "forged_log_then_exit")


def test_forged_answer_files_then_killing_the_worker_earn_nothing(run):
    no_marks(run, "forged_files_then_kill_worker")


def test_correct_answers_forged_with_emlib_by_a_background_process_are_withheld(run):
    """A daemon waits for the inputs, computes emlib's answers and overwrites the harness's files;
    whether it wins the race or not, no point is given, and when it wins the evidence is shown."""
    assert marks(run, "forged_correct_answers") == [0, 0]
    text = reasons(run, "forged_correct_answers")
    assert statuses(run, "forged_correct_answers") == ["needs review"] * 2 or "not implemented yet" in text
    assert "off limits" in text or "not implemented yet" in text
    assert_no_harm(run)


# --- beyond the student's own mark -------------------------------------------------------------------

def test_proc_shows_no_classmate_and_their_files_cannot_be_written(run):
    assert marks(run, "proc_and_classmates") == [0, 0]
    assert not any(r["submission"].startswith("hacked") for r in run["rows"])
    assert_no_harm(run)


def test_a_later_students_notebook_cannot_be_rewritten(run):
    no_marks(run, "rewrite_later_student")
    assert marks(run, "victim") == [1, 1]


def test_setsid_background_processes_die_with_the_sandbox(run):
    no_marks(run, "setsid_daemon")
    assert "were killed" in notes(run, "setsid_daemon")
    assert open(run["written"], encoding="utf-8").read().count("\nx") == 0


def test_the_installed_emlib_and_the_solutions_cannot_be_edited(run):
    no_marks(run, "edit_installed_emlib")
    assert marks(run, "victim") == [1, 1]


def test_a_4_gib_allocation_fails_in_the_sandbox_and_costs_only_its_task(run):
    assert marks(run, "memory_4gib") == [1, 0]
    assert "MemoryError" in notes(run, "memory_4gib") and "MemoryError" in reasons(run, "memory_4gib")
    assert_no_harm(run)


def test_a_keyboard_interrupt_in_one_task_costs_only_that_task(run):
    assert marks(run, "keyboard_interrupt_in_a_task") == [0, 1]
    assert "KeyboardInterrupt" in reasons(run, "keyboard_interrupt_in_a_task")
    assert_no_harm(run)


def test_os_exit_inside_one_task_costs_only_that_task(run):
    assert marks(run, "os_exit_in_a_task") == [0, 1]
    assert "kernel died" in reasons(run, "os_exit_in_a_task")


def test_an_endless_loop_in_one_task_costs_only_that_task(run):
    assert marks(run, "endless_loop_in_a_task") == [0, 1]
    assert "time limit" in reasons(run, "endless_loop_in_a_task")


def test_an_endless_loop_in_a_cell_is_skipped_and_the_functions_still_count(run):
    assert marks(run, "endless_loop_in_a_cell") == [1, 1]
    assert "did not finish within the time limit" in notes(run, "endless_loop_in_a_cell")


def test_processes_and_file_size_are_limited(run):
    no_marks(run, "many_processes_and_a_big_file")
    text = notes(run, "many_processes_and_a_big_file")
    assert "stopped after" in text and "File too large" in text and "were killed" in text
    assert int(text.split("stopped after ")[1].split()[0]) < 400


def test_symbolic_links_in_the_answers_are_not_followed(run):
    no_marks(run, "symlinked_answers")
    assert "root:" not in open(run["written"], encoding="utf-8").read()


# --- inputs and outputs ----------------------------------------------------------------------------

def test_a_renamed_notebook_is_graded_by_its_metadata_with_a_warning(run):
    assert marks(run, "renamed_to_another_exercise") == [1, 1]
    assert "the file name says 04_m_step but the notebook's metadata says 03_e_step" in notes(
        run, "renamed_to_another_exercise")


def test_subfolders_and_upper_case_extensions_are_graded(run):
    assert marks(run, "subfolder_upper_case") == [1, 1]
    assert run["display"]["subfolder_upper_case"] == "submissions/deep/er/c23_03_e_step.IPYNB"


def test_skipped_files_are_listed_with_their_reason(run):
    skipped = {r["submission"]: r["reason"] for r in run["rows"] if r["task"] == "SKIPPED"}
    assert any(k.endswith("link_03_e_step.ipynb") and "symbolic link" in v for k, v in skipped.items())
    assert any(k.endswith("notes.txt") and "not a notebook" in v for k, v in skipped.items())


def test_a_file_that_is_not_a_notebook_scores_zero(run):
    assert marks(run, "not_a_notebook") == [0, 0] and "not a readable notebook" in reasons(run, "not_a_notebook")


def test_an_existing_grades_file_is_never_overwritten(run):
    assert run["out"].read_text() == "an earlier run's grades\n"
    assert run["written"].name == "grades-2.csv"


def test_every_submission_is_shown_by_a_unique_path(run):
    totals = [r["submission"] for r in run["rows"] if r["task"] == "TOTAL"]
    assert len(totals) == len(set(totals)) == len(run["paths"])
