"""The mutation score of `make mutate`, per module, from mutmut's results in mutants/.

    python tools/mutation_score.py [--survivors]

Reads mutants/emlib/**/*.py.meta (mutmut 3) and tests/mutation_equivalent.txt
(one mutant name per line, then its reason after whitespace; see CONTRIBUTING.md).
Prints killed / survived / equivalent / timeout / not checked per module and
the score killed / (all checked - equivalent), timeouts counted as killed and
"accepted" survivors (listed as NOT EQUIVALENT, ACCEPTED) counted as survivors (as
mutmut does: a mutant that makes a loop run forever is caught). Exits 1 when a
survivor is neither killed nor listed as equivalent, or when a module of the
core scores below 95 %.
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


def main(argv: list[str]) -> int:
    metas = sorted((ROOT / "mutants" / "emlib").rglob("*.py.meta"))
    if not metas:
        print("no results in mutants/: run `make mutate` first")
        return 1
    equiv = equivalents()
    failed = False
    print(f"{'module':<28}{'killed':>8}{'survived':>10}{'accepted':>10}{'equiv.':>8}{'timeout':>9}{'unrun':>7}"
          f"{'score':>9}")
    survivors = []
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if not codes:
            continue
        module = meta.relative_to(ROOT / "mutants").as_posix()[:-len(".py.meta")].replace("/", ".")
        count = Counter()
        for name, code in codes.items():
            status = STATUS.get(code, "suspicious")
            if status == "survived" and name in equiv:
                # "NOT EQUIVALENT, ACCEPTED: ..." marks a known survivor: it still counts against the score
                status = "accepted" if equiv[name].startswith("NOT EQUIVALENT") else "equivalent"
            count[status] += 1
            if status in ("survived", "suspicious", "no tests"):
                survivors.append(name)
        caught = count["killed"] + count["timeout"]
        live = caught + count["survived"] + count["accepted"] + count["suspicious"] + count["no tests"]
        score = caught / live if live else 1.0
        core = module.split(".")[-1] in CORE and module.count(".") == 1
        if core and (score < TARGET or count["not checked"]):
            failed = True
        print(f"{module:<28}{count['killed']:>8}{count['survived'] + count['suspicious'] + count['no tests']:>10}"
              f"{count['accepted']:>10}{count['equivalent']:>8}{count['timeout']:>9}{count['not checked']:>7}{score:>8.1%}"
              + ("" if core else "  (measured, no target)"))
    if survivors and "--survivors" in argv:
        print("\nsurvivors (kill them with a test, or list them in tests/mutation_equivalent.txt):")
        print("\n".join(f"  {name}" for name in survivors))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
