"""Agreement of our e-invoice validator with the official verdicts, and its throughput.

Runs ``validate_file`` over every file of ``einvoice/official_verdicts.json`` in the shared
corpus and prints:

- syntax and profile agreement;
- XSD-layer agreement ("XSD" among our errors iff among the official ones);
- agreement per implemented rule id, over whole documents and over the CEN unit-test fragments,
  and the CEN unit-test expectations (``_derived/eInvoicing-EN16931-unit-split/expected.json``)
  for the implemented rules;
- the valid/invalid agreement (only meaningful once every rule exists);
- every disagreement;
- throughput in documents per second (best of three runs over the whole corpus, one process).

Run: .venv/bin/python bench/einvoice_verdicts.py [--corpus DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

from belegwerk.einvoice.agreement import compare, expectation_met, implemented_rules
from belegwerk.einvoice.validate import Report, validate_file

DEFAULT_CORPUS = Path(
    os.environ.get("BELEGWERK_CORPUS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
)
SPLIT = "_derived/eInvoicing-EN16931-unit-split/"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = args.corpus / "einvoice"
    official = json.loads((base / "official_verdicts.json").read_text())
    expected = json.loads((base / SPLIT / "expected.json").read_text())
    files = {name: (base / name).read_bytes() for name in official}
    rules = implemented_rules()

    best = float("inf")
    reports: dict[str, Report] = {}
    for _ in range(args.runs):
        start = time.perf_counter()
        reports = {name: validate_file(content, name) for name, content in files.items()}
        best = min(best, time.perf_counter() - start)

    syntax_ok = profile_ok = profile_n = xsd_ok = valid_ok = valid_n = 0
    per_rule: dict[str, Counter[str]] = {"whole": Counter(), "fragments": Counter()}
    disagreements: list[str] = []
    for name, verdict in official.items():
        report = reports[name]
        comparison = compare(report, verdict, rules)
        syntax_ok += comparison.syntax_agrees
        if not comparison.syntax_agrees:
            disagreements.append(f"{name}: syntax ours={comparison.syntax}")
        if verdict.get("profile") is not None:
            profile_n += 1
            profile_ok += comparison.profile_agrees
            if not comparison.profile_agrees:
                disagreements.append(f"{name}: profile (ours, official)={comparison.profile}")
        xsd_ok += ("XSD" in report.verdict.rule_ids()) == ("XSD" in verdict.get("errors", []))
        if verdict.get("valid") is not None:
            valid_n += 1
            valid_ok += comparison.valid[0] == comparison.valid[1]
        kind = "fragments" if name.startswith(SPLIT) else "whole"
        for rule_id in rules:
            key = f"{rule_id} (errors)"
            agrees = key not in comparison.rule_disagreements
            per_rule[kind][rule_id + (":ok" if agrees else ":bad")] += 1
        for rule_key, (ours, theirs) in comparison.rule_disagreements.items():
            disagreements.append(f"{name}: {rule_key} ours={ours} official={theirs}")

    met = Counter[str]()
    for name, case in expected.items():
        report = reports.get(name)
        for expectation in case["expectations"]:
            if expectation["rule"] not in rules or report is None:
                continue
            ok = expectation_met(report, expectation["rule"], expectation["expect"])
            met[expectation["rule"] + (":ok" if ok else ":bad")] += 1
            if not ok:
                disagreements.append(
                    f"{name}: expectation {expectation['rule']} {expectation['expect']} not met"
                )

    total = len(official)
    print(f"files: {total}  implemented rule ids: {len(rules)}")
    print(f"syntax agreement:  {syntax_ok}/{total}")
    print(f"profile agreement: {profile_ok}/{profile_n}")
    print(f"XSD agreement:     {xsd_ok}/{total}")
    print(f"valid/invalid agreement: {valid_ok}/{valid_n} (official verdicts use every rule)")
    print("per rule (errors; whole documents | unit-test fragments | unit-test expectations):")
    for rule_id in sorted(rules):
        cells = []
        for counter in (per_rule["whole"], per_rule["fragments"], met):
            ok, bad = counter[rule_id + ":ok"], counter[rule_id + ":bad"]
            cells.append(f"{ok}/{ok + bad}" if ok + bad else "-")
        print(f"  {rule_id:<20} {cells[0]:>9} | {cells[1]:>9} | {cells[2]:>7}")
    print(f"disagreements: {len(disagreements)}")
    for line in disagreements:
        print("  " + line)
    print(
        f"throughput: {total / best:.0f} documents/s "
        f"({best:.2f} s for {total} files, best of {args.runs}, load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
