"""The mutation score of `make mutate`, per module, from mutmut's results in mutants/.

    python tools/mutation_score.py [--survivors]

Reads mutants/emlib/**/*.py.meta (mutmut 3) and tests/mutation_equivalent.txt
(one mutant name per line, then its reason after whitespace; see CONTRIBUTING.md).
Prints killed / survived / equivalent / timeout / not checked per module and
the score killed / (all checked - equivalent), timeouts counted as killed and
"accepted" survivors (listed as NOT EQUIVALENT, ACCEPTED) counted as survivors (as
mutmut does: a mutant that makes a loop run forever is caught). Exits 1 when a
survivor of the core is neither killed nor listed, when a module of the core
scores below 95 %, when a mutant of the core was not checked, or when a listed
mutant no longer survives: the list is keyed by mutmut's numbering, which moves
when a function changes, so a change to a function means triaging it again.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("mixture", "steps", "suffstats", "em", "init", "kmeans", "selection", "missing", "_validation")
TARGET = 0.95
STATUS = {1: "killed", 3: "killed", 0: "survived", -24: "timeout", 24: "timeout", 152: "timeout",
          255: "timeout", 36: "timeout", None: "not checked", 5: "no tests", 33: "no tests", 34: "skipped"}


def equivalents(path: Path = ROOT / "tests" / "mutation_equivalent.txt") -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                out[name] = reason.strip()
    return out


def main(argv: list[str], root: Path = ROOT) -> int:
    metas = sorted((root / "mutants" / "emlib").rglob("*.py.meta"))
    if not metas:
        print("no results in mutants/: run `make mutate` first")
        return 1
    equiv = equivalents(root / "tests" / "mutation_equivalent.txt")
    failed = False
    print(f"{'module':<28}{'killed':>8}{'survived':>10}{'accepted':>10}{'equiv.':>8}{'timeout':>9}{'unrun':>7}"
          f"{'score':>9}")
    survivors, stale, total, known = [], [], Counter(), set()
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        known.update(codes)
        if not codes:
            continue
        module = meta.relative_to(root / "mutants").as_posix()[:-len(".py.meta")].replace("/", ".")
        count = Counter()
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            if status == "survived" and name in equiv:
                # "NOT EQUIVALENT, ACCEPTED: ..." marks a known survivor: it still counts against the score
                status = "accepted" if equiv[name].startswith("NOT EQUIVALENT") else "equivalent"
            count[status] += 1
            if status in ("survived", "suspicious", "no tests"):
                survivors.append(name)
            if name in equiv and STATUS.get(code) != "survived":
                stale.append(name)              # listed, but a test kills it now (or the numbering moved)
        caught = count["killed"] + count["timeout"]
        live = caught + count["survived"] + count["accepted"] + count["suspicious"] + count["no tests"]
        score = caught / live if live else 1.0
        core = module.split(".")[-1] in CORE and module.count(".") == 1
        if core and (score < TARGET or count["not checked"]
                     or count["survived"] + count["suspicious"] + count["no tests"]):
            failed = True
        if core:
            total.update(count)
        print(f"{module:<28}{count['killed']:>8}{count['survived'] + count['suspicious'] + count['no tests']:>10}"
              f"{count['accepted']:>10}{count['equivalent']:>8}{count['timeout']:>9}{count['not checked']:>7}{score:>8.1%}"
              + ("" if core else "  (measured, no target)"))
    if total:
        caught = total["killed"] + total["timeout"]
        live = caught + total["survived"] + total["accepted"] + total["suspicious"] + total["no tests"]
        print(f"{'core':<28}{total['killed']:>8}{total['survived'] + total['suspicious'] + total['no tests']:>10}"
              f"{total['accepted']:>10}{total['equivalent']:>8}{total['timeout']:>9}{total['not checked']:>7}"
              f"{caught / live if live else 1.0:>8.1%}")
    stale += sorted(name for name in equiv if name not in known and name.split(".")[1] in CORE)
    if stale:
        failed = True
        print(f"\n{len(stale)} mutant(s) listed in tests/mutation_equivalent.txt no longer survive (a test kills "
              "them, or a change renumbered the function's mutants): re-triage and update the list")
        if "--survivors" in argv:
            print("\n".join(f"  {name}" for name in stale))
    if survivors and "--survivors" in argv:
        print("\nsurvivors (kill them with a test, or list them in tests/mutation_equivalent.txt):")
        print("\n".join(f"  {name}" for name in survivors))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
