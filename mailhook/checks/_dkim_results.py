"""One DKIM signature's result, as dkim reports it in its reason and evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# How much of a value dkimpy complains about is quoted in a reason.
MAX_QUOTED = 160
# How the reason names a result of one signature.
KEY_TYPES = {"rsa": "an RSA", "ed25519": "an Ed25519"}
_VERBS = {
    "pass": "passes",
    "fail": "fails",
    "partial-body": "does not cover the whole body",
    "testing": "counts as unsigned",
    "temperror": "cannot be checked for now",
    "permerror": "is malformed",
}


@dataclass(frozen=True, slots=True)
class SignatureResult:
    """The verification of one DKIM-Signature header field."""

    d: str
    s: str
    a: str
    bits: int | None
    result: str  # pass | fail | partial-body | testing | temperror | permerror
    reason: str
    partial_body: bool
    b: str
    # The header names h= lists, lower case, in order: a name once per signed instance,
    # counted from the bottom (RFC 6376 §5.4.2); signed-headers compares them.
    h: tuple[str, ...] = ()
    # The agent or user the signer vouches for (i=, RFC 6376 §3.5), as written; "" when the
    # signature has none (it then stands for "@" and d=). handed-over-by reads its mailbox.
    i: str = ""

    @property
    def passes(self) -> bool:
        return self.result == "pass"

    def summary(self) -> str:
        key = f"{self.a}, {self.bits} bits" if self.bits else self.a
        verb = _VERBS[self.result]
        said = f"{cut(self.d) or '(no d=)'} ({cut(key)}) {verb}"
        return said if self.passes else f"{said}: {self.reason}"

    def as_evidence(self) -> dict[str, Any]:
        return {
            "d": self.d,
            "s": self.s,
            "a": self.a,
            "bits": self.bits,
            "result": self.result,
            "reason": self.reason,
            "partial_body": self.partial_body,
            "b": self.b,
            "h": list(self.h),
            "i": self.i,
        }


def signature_result(
    tags: dict[bytes, bytes],
    result: str,
    reason: str,
    *,
    bits: int | None = None,
    partial_body: bool = False,
) -> SignatureResult:
    return SignatureResult(
        d=text(tags.get(b"d", b"")),
        s=text(tags.get(b"s", b"")),
        a=text(tags.get(b"a", b"")),
        bits=bits,
        result=result,
        reason=reason,
        partial_body=partial_body,
        b=text(re.sub(rb"\s+", b"", tags.get(b"b", b""))),
        h=tuple(
            text(name).strip().lower() for name in tags.get(b"h", b"").split(b":") if name.strip()
        ),
        i=text(re.sub(rb"\s+", b"", tags.get(b"i", b""))),
    )


def malformed(tags: dict[bytes, bytes], why: str) -> SignatureResult:
    return signature_result(tags, "permerror", why)


def text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


def plain(exc: Exception) -> str:
    """dkimpy's message with its bytes literals (``b'bh'``) as text, cut to a readable length.

    dkimpy quotes the offending value, which comes from the message and may be huge.
    """
    return cut(re.sub(r"b'([^']*)'", r"\1", str(exc)))


def cut(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "…"
