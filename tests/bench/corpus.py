"""A reproducible corpus: DKIM-signed (RSA-2048) ~5 KB messages, some ARC-sealed, and its zones.

Everything is derived from the message count and fixed seeds, and signed at the fixtures'
fixed signing time with the fixture keys, so the same count gives the same bytes but for
the Date header: the hour before the corpus was built, as the date-header check judges
a message's date by the clock (older than a week, it fails). A corpus already on disk
with the same manifest is reused while its date is under FRESH_FOR old; the verdict
digest of two runs is comparable when they read the same corpus (the check's reason
gives the date).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from fixtures.generators.arc_dmarc import seal
from fixtures.regenerate import dkim_sign, fixed_time, public_txt, zone_txt
from tests.support import REPO

BENCH_DIR = REPO / "var" / "bench"
# Bumped whenever what the builder writes changes, so an old corpus is rebuilt.
CORPUS_VERSION = 4
SENDER_DOMAINS = tuple(f"bench{n:02d}.example" for n in range(1, 21))
SEALER = "relay.example"
SELECTOR = "bench"
# Every message is forwarded by the same hop for both us and rspamd (its bench.sh takes
# one envelope): SPF is evaluated for bench01.example's bounce address from loopback.
CLIENT_IP = "127.0.0.1"
HELO = "mx.bench01.example"
MAIL_FROM = "bounce@bench01.example"
RCPT = "support@hosting.example"
# The Date of every message built by this process: the hour before it started.
DATE = format_datetime(
    datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
)
# A corpus on disk older than this is built again, well before its Date is a week old.
FRESH_FOR = timedelta(days=2)
ARC_SHARE = 10  # one message in ten comes through a list that seals with ARC
TARGET_BYTES = 5 * 1024

INSTRUCTIONS = (
    ("Duplikat faktury", "Prosze o przeslanie duplikatu faktury VAT {n}/2026 za domene {svc}."),
    ("Pytanie o domene", "Mam pytanie o domene {svc}: kiedy konczy sie jej okres rozliczeniowy?"),
    ("Zmiana DNS", "Prosze o zmiane rekordu DNS typu MX dla domeny {svc} na mx{n}.{svc}."),
    ("Change of address", "Please change my correspondence address for {svc} to ul. Dluga {n}."),
    ("Question", "Could you tell me whether {svc} renews automatically next year?"),
    ("Transfer", "Prosze o kod AuthInfo do transferu domeny {svc}."),
)
FILLER = (
    "Dzien dobry, pisze w sprawie uslug, ktore mam u Panstwa od kilku lat.",
    "Bardzo dziekuje za szybka odpowiedz na poprzednie zgloszenie.",
    "W razie pytan jestem dostepny pod numerem telefonu podanym w panelu klienta.",
    "The previous invoice was paid on time; the payment confirmation is attached below.",
    "Our accounting department needs the documents before the end of the month.",
    "Prosze o potwierdzenie otrzymania tej wiadomosci zwrotnym mailem.",
    "Uprzejmie prosze o informacje, czy wszystkie oplaty zostaly zaksiegowane.",
    "We are also considering moving two more domains to your service next quarter.",
)


@dataclass(frozen=True)
class Corpus:
    """Where a built corpus lies and the envelope every message of it arrives with."""

    directory: Path
    messages: int
    arc_sealed: int
    client_ip: str = CLIENT_IP
    helo: str = HELO
    mail_from: str = MAIL_FROM
    rcpt: str = RCPT

    @property
    def zones(self) -> Path:
        return self.directory / "zones"

    @property
    def mail(self) -> Path:
        """The messages alone, one ``.eml`` file each (what rspamc is pointed at)."""
        return self.directory / "messages"

    def files(self) -> list[Path]:
        return sorted(self.mail.glob("*.eml"))

    def raw_messages(self) -> Iterator[bytes]:
        for path in self.files():
            yield path.read_bytes()


def build_corpus(messages: int, root: Path = BENCH_DIR) -> Corpus:
    """The corpus of ``messages`` messages under ``root``, built unless already there."""
    directory = root / f"corpus-{messages}"
    manifest = directory / "manifest.json"
    wanted = {"version": CORPUS_VERSION, "messages": messages}
    if manifest.exists():
        stored = json.loads(manifest.read_text())
        if {k: stored.get(k) for k in wanted} == wanted and _fresh(stored.get("date")):
            return Corpus(directory, messages, stored["arc_sealed"])
    (directory / "messages").mkdir(parents=True, exist_ok=True)
    for old in (directory / "messages").glob("*.eml"):
        old.unlink()
    write_zones(directory / "zones")
    sealed = 0
    for index in range(messages):
        forwarded = index % ARC_SHARE == ARC_SHARE - 1
        sealed += forwarded
        (directory / "messages" / f"{index:06d}.eml").write_bytes(corpus_message(index, forwarded))
    corpus = Corpus(directory, messages, sealed)
    manifest.write_text(
        json.dumps({**wanted, "arc_sealed": sealed, "date": DATE, **_envelope(corpus)})
    )
    return corpus


def fresh(path: Path) -> bool:
    """Whether a message built before (a large one, cached) is dated recently enough."""
    return (
        path.exists()
        and datetime.now(UTC) - datetime.fromtimestamp(path.stat().st_mtime, UTC) < FRESH_FOR
    )


def _fresh(date: str | None) -> bool:
    return date is not None and datetime.now(UTC) - parsedate_to_datetime(date) < FRESH_FOR


def _envelope(corpus: Corpus) -> dict[str, str]:
    fields = asdict(corpus)
    return {k: fields[k] for k in ("client_ip", "helo", "mail_from", "rcpt")}


def corpus_message(index: int, forwarded: bool) -> bytes:
    """Message ``index``: signed by its sender's domain; sealed by the list when forwarded."""
    rng = random.Random(index)
    domain = SENDER_DOMAINS[index % len(SENDER_DOMAINS)]
    sender = f"klient{index % 997}@{domain}"
    subject, instruction = rng.choice(INSTRUCTIONS)
    text = instruction.format(n=index, svc=f"sklep{index % 50}.{domain}")
    body = _body(rng, text, TARGET_BYTES - 1200)
    headers = [
        ("From", f"Klient {index} <{sender}>"),
        ("To", RCPT),
        ("Subject", f"{subject} ({index})"),
        ("Date", DATE),
        ("Message-ID", f"<bench-{index}@{domain}>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    signed = dkim_sign(_lines(headers, body), domain, SELECTOR, "rsa2048", linesep=b"\r\n")
    if not forwarded:
        return _received(domain, index) + signed
    # A list tags the Subject and adds a footer (breaking the author's signature), then
    # seals what it sends on, recording that the author's domain passed on receipt.
    listed = signed.replace(b"Subject: ", b"Subject: [klienci] ", 1)
    listed += b"-- \r\nklienci mailing list, " + SEALER.encode() + b"\r\n"
    results = (
        f"spf=pass smtp.mailfrom={sender}; dkim=pass header.d={domain} header.s={SELECTOR}; "
        f"dmarc=pass header.from={domain}"
    )
    with fixed_time():
        return _received(SEALER, index) + seal(listed, SEALER, results)


def _body(rng: random.Random, instruction: str, size: int) -> str:
    lines = ["Dzien dobry,", "", instruction, ""]
    while sum(len(line) + 2 for line in lines) < size:
        lines.append(rng.choice(FILLER))
    lines += ["", "Z powazaniem,", "Klient"]
    return "\r\n".join(lines) + "\r\n"


def _lines(headers: list[tuple[str, str]], body: str) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (head + "\r\n" + body).encode("utf-8")


def _received(domain: str, index: int) -> bytes:
    # What the sending MTA adds on top, outside any signature.
    return (
        f"Received: from mx.{domain} (mx.{domain} [192.0.2.{1 + index % 200}])\r\n"
        f"\tby mx.hosting.example with ESMTPS id B{index:08X}; {DATE}\r\n"
    ).encode()


def sized_message(size: int, tag: str = "size") -> bytes:
    """A DKIM-signed message of about ``size`` bytes: a short text and a base64 attachment."""
    rng = random.Random(size)
    domain = SENDER_DOMAINS[0]
    text = "Dzien dobry,\r\n\r\nw zalaczniku skan faktury do domeny sklep1.bench01.example.\r\n"
    raw_len = max(0, (size - 1500) * 3 // 4)
    attachment = base64.encodebytes(rng.randbytes(raw_len)).replace(b"\n", b"\r\n").decode()
    boundary = "bench-boundary-0001"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f"--{boundary}\r\nContent-Type: application/pdf; name=scan.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=scan.pdf\r\n\r\n"
        f"{attachment}--{boundary}--\r\n"
    )
    headers = [
        ("From", f"Klient <klient1@{domain}>"),
        ("To", RCPT),
        ("Subject", f"Faktura ({tag} {size})"),
        ("Date", DATE),
        ("Message-ID", f"<{tag}-{size}@{domain}>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/mixed; boundary="{boundary}"'),
    ]
    signed = dkim_sign(_lines(headers, body), domain, SELECTOR, "rsa2048", linesep=b"\r\n")
    return _received(domain, size) + signed


def sized_text_message(size: int, tag: str = "text") -> bytes:
    """A DKIM-signed message of about ``size`` bytes whose body is one long plain text."""
    rng = random.Random(size)
    domain = SENDER_DOMAINS[0]
    words = ("faktura", "zamowienie", "dostawa", "termin", "platnosc", "sklep", "konto")
    lines, length = [], 0
    while length < size - 1500:
        # Now and then a sentence ends a line, as in written text.
        end = "." if rng.random() < 0.2 else ","
        line = " ".join(rng.choice(words) for _ in range(9)) + end + "\r\n"
        lines.append(line)
        length += len(line)
    headers = [
        ("From", f"Klient <klient1@{domain}>"),
        ("To", RCPT),
        ("Subject", f"Raport ({tag} {size})"),
        ("Date", DATE),
        ("Message-ID", f"<{tag}-{size}@{domain}>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
    ]
    signed = dkim_sign(
        _lines(headers, "".join(lines)), domain, SELECTOR, "rsa2048", linesep=b"\r\n"
    )
    return _received(domain, size) + signed


def write_zones(directory: Path) -> None:
    """Zone files for the sender domains, the sealing list and the parent ``example``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = zone_txt(public_txt("rsa2048"))
    for n, domain in enumerate(SENDER_DOMAINS, start=1):
        (directory / f"{domain}.zone").write_text(
            _zone_head(domain) + f"@  MX  10 mx.{domain}.\n"
            f"mx  A  198.51.100.{n}\n"
            f'@  TXT  "v=spf1 mx include:_spf.{domain} -all"\n'
            f'_spf  TXT  "v=spf1 ip4:203.0.113.0/24 ip4:{CLIENT_IP} -all"\n'
            f'_dmarc  TXT  "v=DMARC1; p=reject; rua=mailto:dmarc@{domain}"\n'
            f"{SELECTOR}._domainkey  TXT  {key}\n"
        )
    (directory / f"{SEALER}.zone").write_text(
        _zone_head(SEALER) + "@  A  203.0.113.50\n"
        f'@  TXT  "v=spf1 ip4:203.0.113.50 ip4:{CLIENT_IP} -all"\n'
        '_dmarc  TXT  "v=DMARC1; p=none"\n'
        f"rsa2048._domainkey  TXT  {key}\n"
    )
    # The parent answers NXDOMAIN for every other name below it (RFC 8020), as real DNS
    # does; the fixture server would refuse them, which is a temporary failure.
    (directory / "example.zone").write_text(_zone_head("example"))


def _zone_head(origin: str) -> str:
    # Long TTLs: the cache stays warm for a whole run.
    return (
        "$TTL 86400\n"
        f"@  SOA  ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 3600\n"
        f"@  NS  ns.{origin}.\n"
    )
