"""The benchmark's corpus builder and verification part on a few messages, so it keeps working."""

from __future__ import annotations

from pathlib import Path

from tests.bench import extract_only
from tests.bench.corpus import ARC_SHARE, build_corpus
from tests.bench.servers import dns_server
from tests.bench.targets import evaluate, table
from tests.bench.verify import measure_verification, verification_service

MESSAGES = 20


def test_corpus_is_reproducible_and_verifies(tmp_path: Path) -> None:
    corpus = build_corpus(MESSAGES, root=tmp_path / "a")
    again = build_corpus(MESSAGES, root=tmp_path / "b")
    files = corpus.files()
    assert len(files) == MESSAGES
    assert [p.read_bytes() for p in files] == [p.read_bytes() for p in again.files()]
    assert all(4_500 < len(p.read_bytes()) < 8_000 for p in files)
    sealed = MESSAGES // ARC_SHARE
    assert corpus.arc_sealed == sealed

    with dns_server(corpus.zones) as dns:
        service = verification_service(dns, tmp_path / "verify.db")
        figures = measure_verification(service, corpus)

    assert figures["messages"] == MESSAGES
    assert figures["cpu_ms_per_msg"] > 0 and figures["msgs_per_s"] > 0
    results = figures["results"]
    # Every message authenticates: signed directly, or sealed by the trusted list.
    assert results["spf=pass"] == MESSAGES
    assert results["dmarc=pass"] == MESSAGES
    assert results["dkim=pass"] == MESSAGES - sealed
    assert results["arc=pass"] == sealed
    # The cache was warm: the measured pass sent no query.
    assert figures["dns_queries_sent"] == 0


def test_targets_table_names_every_target() -> None:
    figures = {"verify": {"cpu_ms_per_msg": 3.0}, "rspamd": {"cpu_ms_per_msg": 2.0}}
    judged = evaluate(figures)
    assert judged["verify_vs_rspamd"] == {"value": 1.5, "target": "≤ 2.0", "met": True}
    assert judged["smtp_sqlite_rate"]["met"] is None
    printed = table(figures, judged)
    assert "verification CPU/msg ÷ rspamd's" in printed and "not measured" in printed


def test_extraction_alone_reads_the_corpus(tmp_path: Path) -> None:
    """The part counted under callgrind: every corpus message asks for something."""
    assert extract_only.main(["5", "--corpus", str(MESSAGES)], root=tmp_path) == 5
    assert extract_only.main(["0", "--corpus", str(MESSAGES)], root=tmp_path) == 0
