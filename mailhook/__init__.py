"""The mail side of intakeguard: canonical messages, checks and instruction extraction.

It never imports ``app`` (an import-linter contract in pyproject.toml). What ``app`` may
use is the modules named in ``__all__``, each through the names it does not mark private
(tests/app/test_mailhook_surface.py holds ``app`` to this list):

- the canonical message and its doors: ``message`` (InboundMessage, Envelope, Channel,
  parse_message), ``handoff`` (the Handoff protocol a door calls, and its Receipt),
  ``smtp``, ``smtp_config`` and ``receiver`` (the SMTP door), ``milter`` (the milter
  door: MilterConfig, RejectedMail, start_milter), ``accepting`` (the board on which the
  workers of ``serve --workers`` share their doors' connections), ``tracing`` (request
  ids);
- the checks: ``checks`` (the pipeline, ``declare`` for a check run elsewhere,
  ``declared``), ``findings`` (Finding), ``context`` (CheckContext, TrustConfig),
  ``dns`` (the resolver the checks share);
- instruction extraction: ``instructions`` (Instruction, extract), ``catalogue`` (the
  Catalogue, its kinds and their phrases), ``patterns`` (catalogue patterns),
  ``requests`` (RequestWords, the catalogue's ``[requests]``), ``unexplained``
  (HarmlessForms, the catalogue's ``[unexplained]``),
  ``text``, ``reading`` (the text of a message as extraction reads it,
  piece by piece: read_message, Piece, Role) and ``parts`` (Part, a MIME part as read),
  which the REST API's and the console's message view show;
- what the registry shares with mail: ``addresses``, ``domains``, ``confusables``,
  ``identifiers`` (PESEL, NIP, REGON checksums), ``names`` (a customer's name as the
  keys it is found by, and the runs of a text that may be names);
- ``errors`` (the root MailhookError and its tree) and ``metrics``.

Everything else (``tally``, ``literals``, ``carriers``, ``htmltext``, ``normalise``,
``services``, ``smtp_data``, ``smtp_limits``, ``milter_protocol``, ``milter_stamp``, the
modules of ``checks`` …) is internal to the mail side.
"""

__all__ = [
    "accepting",
    "addresses",
    "catalogue",
    "checks",
    "confusables",
    "context",
    "dns",
    "domains",
    "errors",
    "findings",
    "handoff",
    "identifiers",
    "instructions",
    "message",
    "metrics",
    "milter",
    "names",
    "parts",
    "patterns",
    "reading",
    "receiver",
    "requests",
    "smtp",
    "smtp_config",
    "text",
    "tracing",
    "unexplained",
]
