"""Parse times of the structured bank formats (MT940 and CAMT).

- ``betterplace/sepa_mt9401.sta`` from the shared corpus (97 SEPA entries, 26 statements);
- a generated MT940 with 10,000 SEPA entries (one statement, German ``:86:`` structure);
- a generated camt.053.001.08 with 10,000 entries (every tenth a batch of two TxDtls),
  plain and as a ZIP.

Each figure is the best of three runs. Run: .venv/bin/python bench/bank_mt940_camt.py [entries]
"""

from __future__ import annotations

import io
import random
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from belegwerk.banking.camt import parse_camt
from belegwerk.banking.mt940 import parse_mt940, parse_mt940_statements

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "bank"
OWN_IBAN = "DE18430609671234567800"
COUNTERPARTIES = [
    ("Muster GmbH", "DE89370400440532013000", "COBADEFFXXX"),
    ("Telekom Deutschland GmbH", "DE29100100100987654321", "PBNKDEFFXXX"),
    ("Papier Paul e.K.", "DE83500105175407324520", "INGDDEFFXXX"),
    ("Druckerei Nord GmbH", "DE65760260001234567890", "NORSDE71XXX"),
]


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def amounts(entries: int, seed: int = 3) -> list[Decimal]:
    rnd = random.Random(seed)
    return [Decimal(rnd.randrange(-50_000, 80_000) or 1) / 100 for _ in range(entries)]


def mt940_file(entries: int) -> bytes:
    day = date(2024, 1, 2)
    lines = [":20:STARTUMS", f":25:{OWN_IBAN}", ":28C:00001/001", ":60F:C240101EUR1000,00"]
    total = Decimal("1000.00")
    for i, amount in enumerate(amounts(entries)):
        booked = day + timedelta(days=i // 40)
        name, iban, bic = COUNTERPARTIES[i % len(COUNTERPARTIES)]
        mark = "C" if amount > 0 else "D"
        total += amount
        value = f"{abs(amount):.2f}".replace(".", ",")
        lines.append(f":61:{booked:%y%m%d}{booked:%m%d}{mark}{value}NTRFNONREF")
        lines.append(
            f":86:166?00GUTSCHR. UEBERWEISUNG?109310?20EREF+RE-2024-{i:05}?21SVWZ+Rechnung "
        )
        lines.append(f"RE-2024-{i:05} Kundennr. {i % 997}?30{bic}?31{iban}?32{name}?34997")
    mark = "C" if total >= 0 else "D"
    lines.append(f":62F:{mark}{booked:%y%m%d}EUR{abs(total):.2f}".replace(".", ","))
    return ("\r\n".join(lines) + "\r\n-\r\n").encode()


def camt053_file(entries: int) -> bytes:
    day = date(2024, 1, 2)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-12-31T18:00:00</CreDtTm>"
        "</GrpHdr><Stmt><Id>BENCH-1</Id>",
        f"<Acct><Id><IBAN>{OWN_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>",
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-01-01</Dt></Dt></Bal>",
    ]
    for i, amount in enumerate(amounts(entries)):
        booked = day + timedelta(days=i // 40)
        direction = "CRDT" if amount > 0 else "DBIT"
        role, agent = ("Dbtr", "DbtrAgt") if amount > 0 else ("Cdtr", "CdtrAgt")
        value = abs(amount)
        parts = [value] if i % 10 else [value / 2, value - value / 2]
        parts = [part.quantize(Decimal("0.01")) for part in parts]
        parts[-1] = value - sum(parts[:-1])
        details = []
        for k, part in enumerate(parts):
            name, iban, bic = COUNTERPARTIES[(i + k) % len(COUNTERPARTIES)]
            details.append(
                f"<TxDtls><Refs><EndToEndId>RE-2024-{i:05}-{k}</EndToEndId></Refs>"
                f'<Amt Ccy="EUR">{part:.2f}</Amt><CdtDbtInd>{direction}</CdtDbtInd>'
                f"<RltdPties><{role}><Pty><Nm>{name}</Nm></Pty></{role}>"
                f"<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct></RltdPties>"
                f"<RltdAgts><{agent}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{agent}>"
                f"</RltdAgts><RmtInf><Ustrd>Rechnung RE-2024-{i:05}</Ustrd>"
                f"<Ustrd>Kundennr. {i % 997}</Ustrd></RmtInf></TxDtls>"
            )
        out.append(
            f'<Ntry><Amt Ccy="EUR">{value:.2f}</Amt><CdtDbtInd>{direction}</CdtDbtInd>'
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt>"
            f"<ValDt><Dt>{booked}</Dt></ValDt><AcctSvcrRef>REF{i:08}</AcctSvcrRef>"
            "<BkTxCd><Prtry><Cd>NTRF+166+9310+997</Cd><Issr>DK</Issr></Prtry></BkTxCd>"
            f"<NtryDtls>{''.join(details)}</NtryDtls>"
            "<AddtlNtryInf>GUTSCHR. UEBERWEISUNG</AddtlNtryInf></Ntry>"
        )
    out.append("</Stmt></BkToCstmrStmt></Document>")
    return "\n".join(out).encode()


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    sepa = CORPUS / "wolph-mt940" / "mt940_tests" / "betterplace" / "sepa_mt9401.sta"
    if sepa.exists():
        content = sepa.read_bytes()
        seconds, statements = best_of(3, lambda: parse_mt940_statements(content, sepa.name))
        count = sum(len(st.transactions) for st in statements)
        print(f"MT940 sepa_mt9401.sta ({count} entries): {seconds * 1000:.1f} ms")
    else:
        print(f"corpus missing: {sepa}")

    mt940 = mt940_file(entries)
    seconds, statement = best_of(3, lambda: parse_mt940(mt940, "bench.sta"))
    assert len(statement.transactions) == entries and not statement.rejected
    assert statement.transactions[-1].balance_after is not None
    print(
        f"MT940 generated, {entries} entries, {len(mt940) / 1e6:.1f} MB: {seconds:.2f} s "
        f"({seconds / entries * 1e6:.0f} µs/entry)"
    )

    camt = camt053_file(entries)
    expected = entries + entries // 10
    seconds, statement = best_of(3, lambda: parse_camt(camt, "bench.xml"))
    assert len(statement.transactions) == expected and not statement.rejected
    print(
        f"camt.053 generated, {entries} entries ({expected} transactions), "
        f"{len(camt) / 1e6:.1f} MB: {seconds:.2f} s ({seconds / entries * 1e6:.0f} µs/entry)"
    )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bench.xml", camt)
    packed = buffer.getvalue()
    seconds, statement = best_of(3, lambda: parse_camt(packed, "bench.zip"))
    assert len(statement.transactions) == expected
    print(f"camt.053 as ZIP ({len(packed) / 1e6:.1f} MB packed): {seconds:.2f} s")


if __name__ == "__main__":
    main()
