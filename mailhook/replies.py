"""SMTP replies as named constants (RFC 5321 §4.2, enhanced codes RFC 3463)."""

from __future__ import annotations

from typing import Final

# aiosmtpd's own DATA replies, word for word: mailhook.smtp reads DATA itself (see there).
DATA_GO_AHEAD: Final = "354 End data with <CR><LF>.<CR><LF>"
DATA_NEEDS_RCPT: Final = "503 Error: need RCPT command"
DATA_SYNTAX: Final = "501 Syntax: DATA"
DATA_DEFAULT_OK: Final = "250 OK"
# RFC 5321 §4.5.3.1.6: 1000 octets per line, CRLF included.
LINE_TOO_LONG: Final = "500 Line too long (see RFC5321 4.5.3.1.6)"
# RFC 1870 §6.3: more than the SIZE we advertised.
TOO_MUCH_DATA: Final = "552 Error: Too much mail data"

# Success
RECORDED: Final = "250 2.0.0 Ok: recorded {verdict_id}"
RECIPIENT_OK: Final = "250 2.1.5 Ok"
# RFC 5321 §4.1.1.3: a repeated recipient is not an error; it is delivered (recorded) once.
RECIPIENT_REPEATED: Final = "250 2.1.5 Ok, already a recipient"
XFORWARD_OK: Final = "250 2.0.0 Ok"

# Temporary failures: the sending server keeps the message and retries.
TEMPORARY_FAILURE: Final = "451 4.3.0 {reason} Please retry later."
TOO_MANY_SESSIONS: Final = "421 4.7.0 Too many connections; try again later"
RATE_LIMITED: Final = "421 4.7.0 Too many connections from {client}; try again later"
TOO_MANY_FROM_CLIENT: Final = (
    "421 4.7.0 Too many connections from your address at once; try again later"
)
# RFC 3463 §3.5 X.4.2: the connection was dropped; the sender's server retries the message.
IDLE_TIMEOUT: Final = "421 4.4.2 Idle too long, closing connection; try again later"
SESSION_TIMEOUT: Final = "421 4.4.2 Session time limit reached, closing connection"
DATA_TOO_SLOW: Final = "421 4.4.2 Message data too slow, closing connection; try again later"
# RFC 5321 §3.8: the server is going away; the client retries elsewhere or later.
SHUTTING_DOWN: Final = "421 4.3.2 Service shutting down; try again later"
TOO_MANY_RECIPIENTS: Final = "452 4.5.3 Too many recipients"

# Permanent failures: the sender is told, nothing is kept.
UNKNOWN_RECIPIENT: Final = (
    "550 5.1.1 <{address}>: this server accepts mail only for the support desk's addresses"
)
UNUSABLE_MESSAGE: Final = "554 5.6.0 {reason}"
# The milter's answers at the end of a message, given by the MTA to its client.
MILTER_REJECTED: Final = (
    "550 5.7.1 Refused: the sender of this message could not be verified "
    "(intakeguard verdict {verdict_id})"
)
# RFC 3463 §3.4 X.3.4: more than MAX_MESSAGE_BYTES.
MILTER_TOO_BIG: Final = "552 5.3.4 Message larger than {limit} bytes"
XFORWARD_REFUSED: Final = "550 5.7.1 XFORWARD is accepted only from trusted relays"
# RFC 5321 §4.1.2: no control character belongs in a domain or a mailbox (nor in our records).
HELO_CONTROL_CHARACTER: Final = "501 5.5.2 Syntax error: control character in the host name"
SENDER_CONTROL_CHARACTER: Final = "553 5.1.7 Malformed sender address: control character"
RECIPIENT_CONTROL_CHARACTER: Final = "553 5.1.3 Malformed recipient address: control character"
XFORWARD_SYNTAX: Final = "501 5.5.4 Syntax: XFORWARD attribute=value ..."
