"""Fail-closed rows of legitimate customers' mail, which must stay accepted."""

from __future__ import annotations

from tests.adversarial_mail import OUTSIDE, SIGNED, Part
from tests.app.decision.fail_closed.headers import DNS_CHANGE
from tests.app.decision.fail_closed.rows import PDF, PNG, QUOTE_INTRO, html, legit, plain, transfer

LEGITIMATE = [
    legit(
        "a plain invoice request from the registered address through acme's own server",
        plain("Faktura", "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DKIM-signed invoice request from elsewhere",
        plain("Faktura", "Proszę o duplikat faktury VAT za acme.pl.", dkim_headers=SIGNED),
        "accepted",
        ("invoice_duplicate",),
        route=OUTSIDE,
    ),
    legit(
        "a DKIM-signed DNS change for the customer's own domain",
        plain("DNS", DNS_CHANGE, dkim_headers=SIGNED),
        "accepted",
        ("dns_change",),
        route=OUTSIDE,
    ),
    legit(
        "a reply with quoted history that asks for an invoice",
        plain(
            "Re: Faktura",
            "Dziękuję, proszę jeszcze o duplikat faktury 11/2026."
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Biuro <biuro@hosting.example>")
            + "> Dzień dobry, w czym możemy pomóc?\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML and plain alternative that agree",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026 dla acme.pl.",
            html="<p>Proszę o <b>duplikat faktury</b> 11/2026 dla acme.pl.</p>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a signature with the company's own www domain",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.\n-- \nJan Kowalski\nACME sp. z o.o.\n"
            "https://www.acme.pl | tel. 600 100 200\n",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a DNS change naming the customer's own domain as a URL",
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla https://acme.pl/ na 192.0.2.11."),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a transfer of the customer's own domain without a code asks for one",
        plain("Transfer", "Proszę o przeniesienie domeny acme.pl do innego rejestratora."),
        "otp_required",
        ("transfer_out",),
    ),
    legit(
        "a transfer of the customer's own domain with a valid code",
        transfer("acme.pl"),
        "accepted",
        ("transfer_out",),
        code=True,
    ),
    legit(
        "an English question about the customer's domain",
        plain("Question", "Could you tell me when acme.pl expires?"),
        "accepted",
        ("inquiry",),
    ),
    legit(
        "a DNS change for the customer's own www host",
        plain("DNS", "Proszę o zmianę rekordu DNS typu CNAME dla www.acme.pl na acme.pl."),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a cancellation of the customer's own server",
        plain("Rezygnacja", "Rezygnuję z usługi vps-12345 z końcem miesiąca."),
        "accepted",
        ("cancellation",),
    ),
    legit(
        "a cancellation of the customer's own server written with a space",
        plain("Rezygnacja", "Rezygnuję z usługi VPS 12345 z końcem miesiąca."),
        "accepted",
        ("cancellation",),
    ),
    legit(
        "a change of contact details for the customer's own domain",
        plain("Dane", "Proszę o zmianę danych kontaktowych dla acme.pl."),
        "accepted",
        ("contact_change",),
    ),
    legit(
        "a From address written in capitals",
        plain("Faktura", "Proszę o duplikat faktury 11/2026.", sender="Jan Kowalski <JAN@ACME.PL>"),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a request written without Polish diacritics",
        plain("Faktura", "Prosze o duplikat faktury za acme.pl, dziekuje."),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a holder change of the customer's own domain asks for paper",
        plain("Abonent", "Proszę o zmianę abonenta domeny acme.pl na spółkę."),
        "postal_required",
        ("holder_change",),
    ),
    legit(
        "a person's mail marked Auto-Submitted no",
        plain(
            "Faktura",
            "Proszę o duplikat faktury 11/2026.",
            headers=(("Auto-Submitted", "no"),),
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "a reply whose own text asks for an invoice",
        plain("Re: Faktura 11/2026", "Proszę o duplikat faktury 11/2026 dla acme.pl."),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML-only request for the customer's own domain",
        html("DNS", "<p>Proszę o <b>zmianę&nbsp;rekordu DNS</b> dla acme.pl.</p>"),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a quoted-printable request with diacritics",
        plain(
            "Faktura",
            "Dzień dobry, proszę o duplikat faktury za żółty miesiąc dla acme.pl.",
            cte="quoted-printable",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "Word HTML with smart tags, empty paragraphs and a signature table",
        html(
            "Faktura",
            '<div class="WordSection1"><p class="MsoNormal">Dzień dobry,<o:p></o:p></p>'
            '<p class="MsoNormal">proszę o duplikat faktury 11/2026 dla '
            "<st1:PersonName>ACME</st1:PersonName> sp. z o.o.<o:p></o:p></p>"
            "<table><tr><td>Jan Kowalski</td><td>tel. 600 100 200</td><td>"
            '<a href="https://www.acme.pl">www.acme.pl</a></td></tr></table>'
            '<img src="https://acme.pl/t.gif" width="1" height="1"></div>',
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "Outlook HTML with a logo shown inline is held, as any image may carry text",
        plain(
            "Faktura",
            "Dzień dobry,\nproszę o duplikat faktury 11/2026.\n\nJan Kowalski\n",
            html="<p>Dzień dobry,</p><p>proszę o duplikat faktury 11/2026.</p>"
            '<p>Jan Kowalski<br><img src="cid:logo" alt="" width="120" height="40"></p>',
            parts=(Part(PNG, "png", "image", "logo.png", disposition="inline"),),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "Apple Mail with an image between two HTML parts",
        html(
            "Faktura",
            "<div>Proszę o duplikat faktury 11/2026 dla acme.pl,</div>",
            parts=(
                Part(PNG, "png", "image", "skan.png", disposition="inline"),
                Part("<div>jak na zrzucie powyżej.</div>", subtype="html", disposition="inline"),
            ),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "a Gmail reply with quoted history and a mobile signature",
        plain(
            "Re: Faktura 11/2026",
            "Proszę o duplikat faktury 11/2026.\n\nSent from my iPhone"
            + QUOTE_INTRO.replace("Ola Nowak <ola@beta.pl>", "Biuro <biuro@hosting.example>")
            + "> Dzień dobry, w czym możemy pomóc?\n",
            html='<div dir="ltr">Proszę o duplikat faktury 11/2026.<br><br>Sent from my iPhone'
            '</div><div class="gmail_quote"><div dir="ltr" class="gmail_attr">W dniu '
            "1.12.2026 o 10:00 Biuro &lt;biuro@hosting.example&gt; napisał:<br></div>"
            '<blockquote class="gmail_quote">Dzień dobry, w czym możemy pomóc?</blockquote>'
            "</div>",
        ),
        "accepted",
        ("invoice_duplicate",),
    ),
    legit(
        "an invoice question with the PDF invoice attached is held, not rejected",
        plain(
            "Faktura 11/2026",
            "Proszę o duplikat faktury 11/2026, w załączeniu oryginał z błędem.",
            parts=(Part(PDF, "pdf", "application", "faktura-11-2026.pdf"),),
        ),
        "review",
        ("invoice_duplicate",),
    ),
    legit(
        "an HTML request with link tooltips and a signature giving the panel address",
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS typu A dla <a href="https://acme.pl" title="Strona">'
            "acme.pl</a> na 192.0.2.11.</p><p>Jan Kowalski, jan@acme.pl, "
            'biuro: <a href="mailto:biuro@acme.pl" title="Biuro">biuro@acme.pl</a></p>',
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a signature giving an address that is not the customer's is held, not rejected",
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS typu A dla <a href="https://acme.pl" title="Strona">'
            "acme.pl</a> na 192.0.2.11.</p><p>Jan Kowalski, jan@acme.pl, "
            'kopia: <a href="mailto:biuro@gmail.com" title="Biuro">biuro@gmail.com</a></p>',
        ),
        "review",
        ("dns_change",),
    ),
    legit(
        "a plain request with a dashed list, emphasis and a sentence ending after the domain",
        plain(
            "DNS",
            "Dzień dobry,\nproszę o zmianę rekordów DNS domeny *acme.pl*:\n- A na 192.0.2.11\n"
            "- MX na mx.acme.pl.\nDziękuję. Pozdrawiam,\n_Jan Kowalski_\n",
        ),
        "accepted",
        ("dns_change",),
    ),
    legit(
        "a DKIM-signed request from acme's own server with a link to its site",
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS typu MX dla acme.pl.\n-- \nhttps://www.acme.pl/kontakt\n",
            dkim_headers=SIGNED,
        ),
        "accepted",
        ("dns_change",),
    ),
]
