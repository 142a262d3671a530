"""Fail-closed rows of classes 5 to 8: header instances, automatic mail, results, addresses."""

from __future__ import annotations

from tests.adversarial_mail import OUTSIDE, SIGNED, TRUSTED_AUTHSERV_ID, Mail, Route
from tests.app.decision.fail_closed.rows import (
    C5,
    C6,
    C7,
    C8,
    FOREIGN,
    FORGED_RESULTS,
    NOT_ACCEPTED,
    REJECTED,
    REVIEW,
    attack,
    legit,
    plain,
)

HEADERS = [
    attack(
        "a second Subject prepended above a DKIM-signed message is held for review",
        C5,
        plain(
            "Pytanie",
            "Dzień dobry, proszę o realizację.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Zmiana rekordu DNS dla acme.pl na 203.0.113.66"),),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second Subject asking for a cancellation above a signed one is held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Rezygnacja z usługi vps-12345"),),
        ),
        REVIEW,
        route=OUTSIDE,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second From prepended above a DKIM-signed message is never accepted",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("From", "Ola Nowak <ola@beta.pl>"),),
        ),
        FOREIGN,
        route=OUTSIDE,
    ),
    attack(
        "two Subject headers from the customer's own server are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Subject", "Zmiana rekordu DNS dla acme.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two To headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("To", "ola@beta.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two Cc headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Cc", "anna@acme.pl"), ("Cc", "ola@beta.pl")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two In-Reply-To headers are held for review",
        C5,
        plain(
            "Re: Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("In-Reply-To", "<a@hosting.example>"), ("In-Reply-To", "<b@beta.pl>")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a second Subject above a signed message from acme's own server is held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            dkim_headers=SIGNED,
            on_top=(("Subject", "Kod AuthInfo dla acme.pl"),),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a Mail-Followup-To to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Mail-Followup-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Mail-Reply-To to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Mail-Reply-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Disposition-Notification-To elsewhere put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Disposition-Notification-To", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "a Resent-From to another address put above a replayed signed message is held",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 za acme.pl.",
            dkim_headers=SIGNED,
            on_top=(("Resent-From", "ksiegowa@example.org"),),
        ),
        NOT_ACCEPTED,
        route=OUTSIDE,
        checks=(("sender-headers", "fail"),),
    ),
    attack(
        "two Reply-To headers are held for review",
        C5,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Reply-To", "jan@acme.pl"), ("Reply-To", "ola@beta.pl")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "two References headers are held for review",
        C5,
        plain(
            "Re: Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("References", "<a@hosting.example>"), ("References", "<b@beta.pl>")),
        ),
        REVIEW,
        checks=(("header-count", "fail"),),
    ),
    attack(
        "a Subject the DKIM signature does not cover is held for review",
        C5,
        plain(
            "Zmiana rekordu DNS dla acme.pl na 203.0.113.66",
            "Dzień dobry, proszę o realizację.",
            dkim_headers=("from", "to", "date", "message-id"),
        ),
        REVIEW,
        route=OUTSIDE,
    ),
]

DNS_CHANGE_TEXT = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66."

AUTOMATIC = [
    attack(
        "a signed message from the null reverse-path, as vacation responders send, is held",
        C6,
        plain("DNS", DNS_CHANGE_TEXT, dkim_headers=SIGNED),
        REVIEW,
        route=Route("203.0.113.66", "mail.outside.example", ""),
        checks=(("envelope-from", "bounce"),),
    ),
    attack(
        "a mailing list's copy of a signed request is held for review",
        C6,
        plain("DNS", DNS_CHANGE_TEXT, dkim_headers=SIGNED, on_top=(("List-Id", "<k.acme.pl>"),)),
        REVIEW,
        route=OUTSIDE,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an out-of-office reply echoing a DNS change is held for review",
        C6,
        plain(
            "Automatyczna odpowiedź: Re: Zmiana rekordu DNS dla acme.pl",
            "Jestem na urlopie do 15.12.2026.\n\n> Proszę o zmianę rekordu DNS dla acme.pl.\n",
            headers=(("Auto-Submitted", "auto-replied"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an auto-reply whose body repeats the request is held for review",
        C6,
        plain(
            "Re: Rezygnacja",
            "Dziękujemy za wiadomość. Treść: Rezygnuję z usługi vps-12345.",
            headers=(("Auto-Submitted", "auto-replied"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "a message marked auto-generated is held for review",
        C6,
        plain(
            "Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Auto-Submitted", "auto-generated"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "X-Autoreply is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("X-Autoreply", "yes"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "X-Autorespond is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("X-Autorespond", "Out of office"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "Precedence auto_reply is held for review",
        C6,
        plain(
            "Re: Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Precedence", "auto_reply"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "Precedence bulk is held for review",
        C6,
        plain(
            "Zmiana DNS acme.pl",
            "Proszę o zmianę rekordu DNS dla acme.pl.",
            headers=(("Precedence", "bulk"),),
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "an English out-of-office subject without headers is held for review",
        C6,
        plain(
            "Out of Office: Re: DNS change for acme.pl",
            "I am out of the office until 15 December.\n> Please change the DNS records of "
            "acme.pl.\n",
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
    attack(
        "a Polish auto-reply subject without headers is held for review",
        C6,
        plain(
            "Automatyczna odpowiedź: Zmiana DNS acme.pl",
            "Dziękuję za wiadomość, odpowiem po powrocie.\n"
            "Proszę o zmianę rekordu DNS dla acme.pl.",
        ),
        REVIEW,
        checks=(("auto-submitted", "auto"),),
    ),
]

DNS_CHANGE = "Proszę o zmianę rekordu DNS typu A dla acme.pl na 203.0.113.66."

RESULTS = [
    attack(
        "a trusted authserv-id sent straight from the client is a forgery",
        C7,
        plain("DNS acme.pl", DNS_CHANGE, on_top=(("Authentication-Results", FORGED_RESULTS),)),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id claimed by a REST caller without the relay scope is a forgery",
        C7,
        plain("DNS acme.pl", DNS_CHANGE, on_top=(("Authentication-Results", FORGED_RESULTS),)),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        rest_token="intake",
        rest_relay=True,
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id reporting only a DKIM pass, straight from the client, is a forgery",
        C7,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            on_top=(
                (
                    "Authentication-Results",
                    f"{TRUSTED_AUTHSERV_ID}; dkim=pass header.d=acme.pl header.s=rsa2048",
                ),
            ),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id with a valid code straight from the client never authorizes",
        C7,
        Mail(
            subject="Kod AuthInfo",
            plain="Proszę o kod AuthInfo dla acme.pl.\nKod jednorazowy: {code}",
            on_top=(("Authentication-Results", FORGED_RESULTS),),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        code=True,
        checks=(("upstream-results", "forged"),),
    ),
    attack(
        "a trusted authserv-id under a header the client wrote itself is a forgery",
        C7,
        plain(
            "DNS acme.pl",
            DNS_CHANGE,
            on_top=(
                ("Authentication-Results", "mx.outside.example; spf=pass"),
                ("Authentication-Results", FORGED_RESULTS),
            ),
        ),
        REJECTED,
        route=OUTSIDE,
        hop="direct",
        checks=(("upstream-results", "forged"),),
    ),
    legit(
        "Authentication-Results of our own relay are believed when it hands the message over",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            on_top=(("Authentication-Results", FORGED_RESULTS),),
        ),
        "accepted",
        ("invoice_duplicate",),
        route=OUTSIDE,
        hop="relay",
        rest_relay=True,
    ),
]

ADDRESSES = [
    attack(
        "a quoted local part holding the customer's address in MAIL FROM is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@acme.pl"@evil.example'),
    ),
    attack(
        "a quoted local part holding an outside address in MAIL FROM at acme.pl is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@evil.example"@acme.pl'),
    ),
    attack(
        "a From whose quoted local part holds the customer's address is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE, sender='Jan Kowalski <"jan@acme.pl"@evil.example>'),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", '"jan@acme.pl"@evil.example'),
    ),
    attack(
        "a From whose comment holds the customer's address is never accepted",
        C8,
        plain("DNS acme.pl", DNS_CHANGE, sender="jan@evil.example (jan@acme.pl)"),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", "jan@evil.example"),
    ),
    attack(
        "a From whose encoded-word name holds the customer's address is never accepted",
        C8,
        plain(
            "DNS acme.pl",
            DNS_CHANGE,
            sender="=?utf-8?q?jan=40acme=2Epl?= <jan@evil.example>",
        ),
        frozenset({"rejected", "review"}),
        route=Route("203.0.113.66", "mail.evil.example", "jan@evil.example"),
    ),
]

ADDRESSES += [
    attack(
        "a Reply-To whose quoted local part holds the customer's address is never accepted",
        C8,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Reply-To", '"jan@acme.pl"@evil.example'),),
        ),
        frozenset({"rejected", "review"}),
    ),
    attack(
        "a Sender whose comment holds the customer's address is never accepted",
        C8,
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Sender", "jan@evil.example (jan@acme.pl)"),),
        ),
        frozenset({"rejected", "review"}),
    ),
]
