"""Plain-language explanations of each check result, for agents, in their language.

A check's own reason is English and precise ("SPF none: the MAIL FROM domain … publishes
no SPF record"); the console shows, beside it, what the result means in the agent's
language, keyed by the check's stable name and result (``dmarc.reject``). The English
sentences below are the catalogue's source text (msgids), translated in
app/console/locale/*/LC_MESSAGES/console.po; where a language has no translation, the
check's own reason is what an agent reads. tests/app/console/test_i18n.py fails when a
check declares a result (mailhook.checks.declared) that this table does not explain.
"""

from __future__ import annotations

from typing import Any, Final

from app.console.i18n import N_, translated

EXPLANATIONS: Final[dict[str, str]] = {
    "addressed-to.elsewhere": N_(
        "Only the sender's signature vouches for this message, and it was written to "
        "someone else: it may be the customer's message to another party, sent on to us."
    ),
    "addressed-to.error": N_(
        "Checking whom the message was written to failed unexpectedly; treat it with care."
    ),
    "addressed-to.none": N_(
        "Whom the message was written to was not compared (it does not authenticate, or "
        "no recipient was given)."
    ),
    "addressed-to.pass": N_(
        "The message was written to the desk, or came from the sender's own mail server."
    ),
    "addressed-to.unsigned": N_(
        "Someone was added to the recipients after the sender signed the message: a reply "
        "to all would reach them."
    ),
    "addressed-to.unknown-desk": N_(
        "Only the sender's signature vouches for this message, and whom it was written to "
        "could not be compared: no recipient was given and no desk domain is configured."
    ),
    "addressed-to.temperror": N_(
        "Whom the message was written to could not be checked for now; the check is repeated later."
    ),
    "arc.error": N_(
        "Checking the forwarding seal (ARC) failed unexpectedly; treat the message with care."
    ),
    "arc.fail": N_(
        "The message carries a forwarding seal (ARC) that does not verify: it was "
        "changed on the way or forged."
    ),
    "arc.none": N_("The message was not forwarded with a seal (no ARC); nothing to check."),
    "arc.pass": N_(
        "The message was forwarded, and a trusted forwarder vouches for how it "
        "authenticated before."
    ),
    "arc.temperror": N_(
        "The forwarding seal (ARC) could not be checked for now (DNS trouble); the "
        "check is repeated later."
    ),
    "arc.untrusted": N_(
        "A forwarding seal (ARC) is there, but from a server we do not trust, so it is ignored."
    ),
    "auto-submitted.auto": N_(
        "A program sent this message (auto-reply, out-of-office or bulk mail), not a person."
    ),
    "auto-submitted.error": N_("Checking whether a program sent the message failed unexpectedly."),
    "auto-submitted.none": N_(
        "Nothing marks the message as sent by a program: a person seems to have written it."
    ),
    "auto-submitted.temperror": N_(
        "Whether a program sent the message could not be checked for now."
    ),
    "customer-identifier.mismatch": N_(
        "The PESEL, NIP or REGON in the message belongs to another customer, or to several."
    ),
    "customer-identifier.none": N_(
        "The PESEL, NIP or REGON in the message belongs to no single registered customer."
    ),
    "customer-identifier.pass": N_(
        "The PESEL, NIP or REGON in the message belongs to this customer."
    ),
    "customer-identifier.unchecked": N_(
        "The message gives a PESEL, NIP or REGON that could not be compared (no secret "
        "key is configured)."
    ),
    "customer-match.ambiguous": N_(
        "It is not clear which customer the message is about: ask the sender to name "
        "the service or login."
    ),
    "customer-match.fail": N_(
        "The sender is not the address the customer registered in the Customer Panel."
    ),
    "customer-match.none": N_(
        "The sender is no registered panel address and the message names no customer's service."
    ),
    "customer-match.pass": N_(
        "The sender is the address the customer registered in the Customer Panel."
    ),
    "date-header.error": N_("Checking the message's date failed unexpectedly."),
    "date-header.fail": N_(
        "The message's date is missing, repeated, unreadable, or far in the past or future."
    ),
    "date-header.pass": N_("The message's date is readable and plausible."),
    "date-header.temperror": N_("The message's date could not be checked for now."),
    "display-name.error": N_("Checking the sender's display name failed unexpectedly."),
    "display-name.fail": N_(
        "The sender's display name shows an address other than the real one: a common "
        "trick of impostors."
    ),
    "display-name.none": N_("The sender has no display name."),
    "display-name.pass": N_("The sender's display name shows no address."),
    "display-name.temperror": N_("The sender's display name could not be checked for now."),
    "dkim.error": N_("Checking the DKIM signature failed unexpectedly."),
    "dkim.fail": N_(
        "A DKIM signature does not verify: the message was changed after signing, or "
        "the signature is forged."
    ),
    "dkim.none": N_("The message has no DKIM signature."),
    "dkim.pass": N_(
        "The message carries a valid DKIM signature: a domain vouches that it has not been changed."
    ),
    "dkim.permerror": N_(
        "A DKIM signature is broken (bad format, missing or too short key) and proves nothing."
    ),
    "dkim.temperror": N_(
        "The DKIM signature could not be checked for now (DNS trouble); the check is "
        "repeated later."
    ),
    "dmarc.error": N_("Checking DMARC failed unexpectedly."),
    "dmarc.fail": N_(
        "The sender's domain does not confirm that it sent the message (DMARC fails); "
        "its owner only asks for reports."
    ),
    "dmarc.none": N_(
        "The sender's domain publishes no DMARC policy, so nothing confirms that it "
        "sent the message."
    ),
    "dmarc.pass": N_(
        "The sender's domain confirms that it sent the message (DMARC: aligned SPF or DKIM passes)."
    ),
    "dmarc.permerror": N_(
        "The sender's domain publishes a broken DMARC record, so nothing confirms the sender."
    ),
    "dmarc.quarantine": N_(
        "The sender's domain does not confirm the message, and asks to treat such mail "
        "as suspicious (DMARC quarantine)."
    ),
    "dmarc.reject": N_(
        "The sender's domain does not confirm the message, and asks to refuse such mail "
        "(DMARC reject): very likely forged."
    ),
    "dmarc.temperror": N_(
        "DMARC could not be checked for now (DNS trouble); the check is repeated later."
    ),
    "envelope-from.bounce": N_("The envelope sender is empty, as for a bounce or an auto-reply."),
    "envelope-from.error": N_("Checking the envelope sender failed unexpectedly."),
    "envelope-from.none": N_(
        "The envelope sender is missing or cannot be compared with the visible sender."
    ),
    "envelope-from.pass": N_(
        "The envelope sender belongs to the same organisation as the visible sender."
    ),
    "envelope-from.temperror": N_("The envelope sender could not be checked for now."),
    "envelope-from.warn": N_(
        "The envelope sender is in another organisation than the visible sender, or is "
        "not a usable address."
    ),
    "from-mailbox.error": N_("Checking the sender's address failed unexpectedly."),
    "from-mailbox.fail": N_("The sender's address is missing, invalid or given more than once."),
    "from-mailbox.pass": N_("The message has exactly one valid sender address."),
    "from-mailbox.temperror": N_("The sender's address could not be checked for now."),
    "header-count.error": N_("Counting the headers failed unexpectedly."),
    "handed-over-by.other-customer": N_(
        "Another registered customer's address handed this message over in the "
        "customer's name (as its envelope sender, Sender or DKIM i=) or would get the "
        "answer (Reply-To): the domain is proven, the person is not."
    ),
    "handed-over-by.pass": N_(
        "No other registered customer handed this message over, nor would get the "
        "answer (Reply-To)."
    ),
    "header-count.fail": N_(
        "A header that may appear only once appears twice: mail programs may show different values."
    ),
    "header-count.pass": N_("No header that may appear once appears twice."),
    "header-count.temperror": N_("The headers could not be counted for now."),
    "instruction-kind.none": N_(
        "The catalogue does not recognise what the message asks for: read it and decide."
    ),
    "instruction-kind.partial": N_(
        "Beside a request the catalogue recognises, the message asks for something else "
        "it does not."
    ),
    "instruction-kind.pass": N_("The catalogue recognises what the message asks for."),
    "instruction-parts.attachment": N_(
        "The message has an attachment that was not read; open it before acting."
    ),
    "instruction-parts.disagree": N_(
        "The parts of the message (e.g. plain text and HTML) ask for different things."
    ),
    "instruction-parts.hidden": N_(
        "The message holds text a mail program may not show; it may hide a request."
    ),
    "instruction-parts.pass": N_(
        "Every part a person may open was read, and they ask for the same thing."
    ),
    "instruction-parts.unreadable": N_(
        "A part of the message could not be read; it may hold a request."
    ),
    "instruction-text.history-asks": N_(
        "The quoted or forwarded text below the sender's own asks for something."
    ),
    "instruction-text.points-elsewhere": N_(
        "The sender's text refers to a request elsewhere (below, in an attachment) "
        "instead of stating it."
    ),
    "instruction-text.unexplained": N_(
        "Beside the recognised request the sender writes something that names a service, "
        "a number or another party: it may ask for more."
    ),
    "instruction-text.truncated": N_("The message is too long to be read whole; read it yourself."),
    "lookalike-domain.error": N_("Checking for look-alike domains failed unexpectedly."),
    "lookalike-domain.fail": N_(
        "The sender's domain imitates a customer's or our own domain (look-alike "
        "letters): very likely an impostor."
    ),
    "lookalike-domain.none": N_(
        "The sender's domain cannot be judged: the sender has no usable address."
    ),
    "lookalike-domain.pass": N_(
        "The sender's domain does not imitate a customer's or our own domain."
    ),
    "lookalike-domain.temperror": N_("Look-alike domains could not be checked for now."),
    "lookalike-domain.warn": N_("The sender's domain mixes alphabets, as look-alike domains do."),
    "message-id.error": N_("Checking the Message-ID failed unexpectedly."),
    "message-id.fail": N_("The Message-ID is missing, repeated or malformed."),
    "message-id.pass": N_("The message has one well-formed Message-ID."),
    "message-id.temperror": N_("The Message-ID could not be checked for now."),
    "named-addresses.other": N_(
        "The message names an e-mail address that is not the customer's: a request may "
        "send something to a stranger."
    ),
    "named-addresses.pass": N_("The e-mail addresses the message names are the customer's own."),
    "named-customer.other": N_(
        "The message names another registered customer by name: the request may be about "
        "that customer's account."
    ),
    "named-customer.pass": N_("The customers the message names by name are the sender."),
    "one-time-code.error": N_(
        "The one-time code could not be checked (no secret key is configured)."
    ),
    "one-time-code.fail": N_(
        "The one-time code is wrong, expired, already used or another customer's."
    ),
    "one-time-code.locked": N_(
        "Too many wrong one-time codes were tried for this customer: codes are locked for a while."
    ),
    "one-time-code.pass": N_("The one-time code is valid, unused and the customer's."),
    "one-time-code.unchecked": N_(
        "The message carries a one-time code, but it counts only in a message from the "
        "registered address that the domain confirms."
    ),
    "registered-alignment.crossed": N_(
        "The domain that vouches for the sender lies outside the customer's registered "
        "service (a neighbouring name on a shared platform, or the platform's own name "
        "above it): it proves nothing about this customer."
    ),
    "registered-alignment.pass": N_(
        "The domain that vouches for the sender lies within the customer's registered service."
    ),
    "replay.duplicate": N_(
        "The same message was already received earlier: a copy delivered again; check "
        "that the first one was dealt with."
    ),
    "replay.fail": N_(
        "An earlier message had the same signature or Message-ID with other content: "
        "someone may be replaying it."
    ),
    "replay.none": N_(
        "The message has neither a DKIM signature nor a Message-ID, so a copy sent "
        "again cannot be recognised."
    ),
    "replay.pass": N_("No earlier message is a copy of this one."),
    "replay.retransmission": N_(
        "These exact bytes were already recorded: the sending server sent the message again."
    ),
    "sender-headers.error": N_("Checking the Sender and Reply-To headers failed unexpectedly."),
    "sender-headers.fail": N_(
        "Replies would go to another organisation than the sender's (Sender or Reply-To)."
    ),
    "sender-headers.none": N_("The message has no Sender or Reply-To header."),
    "sender-headers.pass": N_(
        "The Sender and Reply-To addresses are in the sender's own organisation."
    ),
    "sender-headers.temperror": N_("The Sender and Reply-To headers could not be checked for now."),
    "sending-service.shared": N_(
        "Only an SPF pass vouches for the sender, for a server of a mail service or "
        "shared relay that sends for many customers alike: the service is proven, the "
        "customer is not."
    ),
    "sending-service.subdomain": N_(
        "Only a signature of a subdomain vouches for the sender, on mail a sending "
        "platform handed over: whoever uses that platform's account passes it, the "
        "customer is not proven."
    ),
    "service-scope.foreign": N_("The message is about services that are not the sender's."),
    "service-scope.lookalike": N_(
        "The message names a service that imitates a registered one (look-alike name)."
    ),
    "service-scope.mixed": N_(
        "Beside the sender's own services, the message names services of someone else."
    ),
    "service-scope.none": N_(
        "The message asks to change a service but names none of the sender's: ask which "
        "one is meant."
    ),
    "service-scope.pass": N_("The services the message names are the sender's own."),
    "signed-headers.error": N_("Checking the signed headers failed unexpectedly."),
    "signed-headers.none": N_(
        "No signature of the sender's domain verifies, so no signed headers to compare."
    ),
    "signed-headers.pass": N_("The DKIM signature covers every header field the reader is shown."),
    "signed-headers.temperror": N_("The signed headers could not be checked for now."),
    "signed-headers.uncovered": N_(
        "A header field the reader is shown (From, Subject, Reply-To, Content-Type…) was "
        "added or left outside the signature: someone may have changed what the reader sees."
    ),
    "spf.error": N_("Checking SPF failed unexpectedly."),
    "spf.fail": N_(
        "The sending server may not send mail for the sender's envelope domain (SPF fail)."
    ),
    "spf.neutral": N_("The envelope domain says nothing about the sending server (SPF neutral)."),
    "spf.none": N_("The envelope domain publishes no SPF record."),
    "spf.pass": N_("The sending server may send mail for the sender's envelope domain (SPF)."),
    "spf.permerror": N_("The envelope domain's SPF record is broken."),
    "spf.softfail": N_(
        "The envelope domain says the sending server is probably not its own (SPF softfail)."
    ),
    "spf.temperror": N_(
        "SPF could not be checked for now (DNS trouble); the check is repeated later."
    ),
    "upstream-results.error": N_(
        "Reading the upstream authentication results failed unexpectedly."
    ),
    "upstream-results.forged": N_(
        "The message carries authentication results in our server's name that our "
        "server did not add: forged."
    ),
    "upstream-results.none": N_(
        "No authentication results from a trusted server of ours were found."
    ),
    "upstream-results.pass": N_(
        "Our own mail server's authentication results were read and taken into account."
    ),
    "upstream-results.repeated": N_(
        "Authentication results in our server's name appear more than once: one was "
        "there before our server saw the message, so none of them is used."
    ),
    "upstream-results.temperror": N_(
        "The upstream authentication results could not be read for now."
    ),
}

# What each decision asks of the desk, for the verdict page's summary.
DECISIONS: Final[dict[str, str]] = {
    "accepted": N_("Accepted: the desk may act on the message."),
    "rejected": N_("Rejected: do not act on the message."),
    "review": N_("Held for review: an agent reads the evidence and decides."),
    "otp_required": N_(
        "Waiting for a one-time code: ask the customer to copy one from the Customer Panel "
        "into a reply."
    ),
    "postal_required": N_(
        "Waiting for signed documents by post: tell the customer which documents to send."
    ),
    "confirmation_required": N_(
        "Waiting for the registered owner to confirm through the link sent to the panel address."
    ),
}


def explanation(lang: str, name: str, result: str) -> str | None:
    """What ``name``.``result`` means, in ``lang``; None when ``lang`` does not translate
    it (the check's own English reason is shown alone)."""
    source = EXPLANATIONS.get(f"{name}.{result}")
    return translated(lang, source) if source is not None else None


def decision_explanation(lang: str, decision: str) -> str | None:
    """What ``decision`` asks of the desk, in ``lang``; None where it is not translated."""
    source = DECISIONS.get(decision)
    return translated(lang, source) if source is not None else None


def reason_check(reason: str, checks: list[Any]) -> tuple[str, str] | None:
    """The (name, result) of the check whose reason ``reason`` is, None when a reason is
    the policy's own sentence (the decision's, not a check's)."""
    for check in checks:
        if isinstance(check, dict) and check.get("reason") == reason:
            return str(check.get("name")), str(check.get("result"))
    return None
