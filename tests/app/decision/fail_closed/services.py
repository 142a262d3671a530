"""Fail-closed rows of class 2: services named so that the lookup does not find them."""

from __future__ import annotations

import pytest

from tests.app.decision.fail_closed.rows import (
    C2,
    FOREIGN,
    QUOTE_INTRO,
    REJECTED,
    REVIEW,
    Row,
    attack,
    fullwidth,
    html,
    legit,
    plain,
    transfer,
)

SERVICES = [
    attack(
        "beta's domain named without its suffix after the word domain is never accepted",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla domeny beta na 192.0.2.11."),
        FOREIGN,
    ),
    attack(
        "beta's domain named without its suffix beside acme.pl is never accepted",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla acme.pl i kwiaty na 192.0.2.11."),
        FOREIGN,
    ),
    attack(
        "beta's domain named without its suffix in English is never accepted",
        C2,
        plain("DNS", "Please change the A record of the domain beta to 192.0.2.11."),
        FOREIGN,
    ),
    legit(
        "the customer's own domain named without its suffix stays accepted",
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla domeny acme na 192.0.2.11."),
        "accepted",
        ("dns_change",),
    ),
    attack(
        "beta's domain with a space after its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta. pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a space after its dot, alone, is never accepted",
        C2,
        transfer("beta. pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a hyphen for its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta-pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with a hyphen for its dot, alone, is never accepted",
        C2,
        transfer("beta-pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with quotes around its label beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i 'beta'.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with quotes around its label, alone, is never accepted",
        C2,
        transfer("'beta'.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain broken over a line at its dot beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta.\npl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain broken over a line at its dot, alone, is never accepted",
        C2,
        transfer("beta.\npl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its label hyphenated over a line beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i be-\nta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its label hyphenated over a line, alone, is never accepted",
        C2,
        transfer("be-\nta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its suffix in brackets beside acme.pl is never accepted",
        C2,
        transfer("acme.pl i beta (pl)"),
        FOREIGN,
        code=True,
    ),
    attack(
        "beta's domain with its suffix in brackets, alone, is never accepted",
        C2,
        transfer("beta (pl)"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain written as a URL is rejected",
        C2,
        transfer("https://beta.pl/"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain as a URL with www and a path is rejected",
        C2,
        transfer("http://www.beta.pl/kontakt"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a zero-width space inside is rejected",
        C2,
        transfer("be\u200bta.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a soft hyphen inside is rejected",
        C2,
        transfer("kwia\u00adty.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a word joiner before the dot is rejected",
        C2,
        transfer("beta\u2060.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a fullwidth dot is rejected",
        C2,
        transfer("beta\uff0epl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain in fullwidth letters is rejected",
        C2,
        transfer(fullwidth("beta.pl")),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with an ideographic full stop is rejected",
        C2,
        transfer("kwiaty\u3002pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a Cyrillic i is never accepted",
        C2,
        transfer("kw\u0456aty.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain with a Cyrillic e is never accepted",
        C2,
        transfer("b\u0435ta.pl"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain as a www subdomain is rejected",
        C2,
        transfer("www.beta.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain as a poczta subdomain is rejected",
        C2,
        transfer("poczta.kwiaty.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain written with [.] is rejected",
        C2,
        transfer("beta[.]pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain written with (dot) is rejected",
        C2,
        transfer("beta (dot) pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a Lisu tone mark for its dot beside the sender's own "
        "is held for review",
        C2,
        transfer("acme.pl oraz beta\ua4f8pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with an Arabic-Indic zero for its dot is rejected",
        C2,
        transfer("beta\u0660pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain with a middle dot beside the sender's own is held",
        C2,
        transfer("acme.pl oraz kwiaty\u00b7pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain as a URL with a percent-encoded host beside the sender's "
        "own is held for review",
        C2,
        transfer("acme.pl oraz https://%62eta.pl/"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain only in a link whose host is percent-encoded is rejected",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla <a href="https://%62%65ta.pl/">mojej domeny</a>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain split by an unknown element a client draws inline is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz b<x-a>eta</x-a>.pl.</p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a Word smart tag beside the sender's own is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz <st1:place>beta</st1:place>.pl.</p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split by an image of no size beside the sender's own is held",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla acme.pl oraz beta<img src="cid:x" width="0">.pl.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards under a right-to-left override is held",
        C2,
        transfer("acme.pl oraz \u202elp.ateb\u202c"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards in a bdo element is held",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla acme.pl oraz <bdo dir="rtl">lp.ateb</bdo>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain written backwards under a CSS bidi override is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz "
            '<span style="unicode-bidi:bidi-override;direction:rtl">lp.ateb</span>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain drawn by a row-reverse flex box is held for review",
        C2,
        html(
            "DNS",
            "<p>Proszę o zmianę rekordu DNS dla acme.pl oraz "
            '<span style="display:inline-flex;flex-direction:row-reverse">'
            "<span>pl</span><span>.</span><span>beta</span></span>.</p>",
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain drawn by flex order is held for review",
        C2,
        html(
            "DNS",
            '<p>Proszę o zmianę rekordu DNS dla acme.pl oraz <span style="display:inline-flex">'
            '<span style="order:2">.pl</span><span style="order:1">beta</span></span>.</p>',
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain split by a space of negative letter spacing is held",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz beta"
            '<span style="letter-spacing:-1em"> </span>.pl</p><p>Kod jednorazowy: {code}</p>',
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split by a space of no size is held for review",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl oraz beta"
            '<span style="font-size:0"> </span>.pl</p><p>Kod jednorazowy: {code}</p>',
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain split across two table cells is held for review",
        C2,
        html(
            "Kod AuthInfo",
            '<table cellpadding="0" cellspacing="0"><tr><td>Proszę o kod AuthInfo dla acme.pl '
            "oraz beta</td><td>.pl</td></tr></table><p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain only in an address in a DNS change is held for review",
        C2,
        plain(
            "DNS",
            "Proszę o zmianę rekordu DNS typu MX dla acme.pl jak dla domeny hostmaster@beta.pl.",
        ),
        REVIEW,
    ),
    attack(
        "another customer's domain with its dot written as a word beside the sender's own "
        "is held for review",
        C2,
        transfer("acme.pl oraz beta kropka pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with a bullet for its dot beside the sender's own is held",
        C2,
        transfer("acme.pl oraz beta\u2022pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain as an emphasised word beside the sender's own is held",
        C2,
        transfer("acme.pl oraz _beta.pl_"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain after a list dash beside the sender's own is held",
        C2,
        plain(
            "Kod AuthInfo",
            "Proszę o kody AuthInfo dla domen:\n-acme.pl\n-beta.pl\nKod jednorazowy: {code}\n",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain after a slash beside the sender's own is held for review",
        C2,
        transfer("acme.pl/beta.pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a URL with one slash beside the sender's own is held",
        C2,
        transfer("acme.pl oraz http:/beta.pl"),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain in a block of an obsolete element right after the "
        "sender's own is held for review",
        C2,
        html(
            "Kod AuthInfo",
            "<p>Proszę o kod AuthInfo dla acme.pl<xmp>beta.pl</xmp></p>"
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REVIEW,
        code=True,
    ),
    attack(
        "another customer's domain with a trailing dot is rejected",
        C2,
        transfer("beta.pl."),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain as its A-label is rejected",
        C2,
        transfer("xn--ka-ola7v.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain with a decomposed ogonek is rejected",
        C2,
        transfer("ła\u0328ka.pl"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's IDN domain in capitals with a zero-width joiner is rejected",
        C2,
        transfer("ŁĄ\u200dKA.PL"),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain only in a Re: subject is never accepted",
        C2,
        plain("Re: beta.pl", "Proszę o kod AuthInfo.\nKod jednorazowy: {code}"),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain only in quoted lines is never accepted",
        C2,
        plain(
            "Re: Domena",
            "Proszę o kod AuthInfo dla tej domeny. Kod jednorazowy: {code}"
            + QUOTE_INTRO
            + "> Domena beta.pl wygasa za miesiąc.\n",
        ),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's domain only in a link's href is rejected",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla <a href="https://beta.pl/">mojej domeny</a>.</p>'
            "<p>Kod jednorazowy: {code}</p>",
        ),
        REJECTED,
        code=True,
    ),
    attack(
        "another customer's domain only in a mailto link is never accepted",
        C2,
        html(
            "Kod AuthInfo",
            '<p>Proszę o kod AuthInfo dla domeny <a href="mailto:admin@beta.pl">z adresu</a>.'
            "</p><p>Kod jednorazowy: {code}</p>",
        ),
        FOREIGN,
        code=True,
    ),
    attack(
        "another customer's server id with a zero-width space is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi vps\u200b-77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id in capitals is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS-77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written with a space beside the sender's own is held",
        C2,
        plain("Rezygnacja", "Rezygnuję z usług vps-12345 oraz vps 77777 z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "another customer's server id written with an underscore is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS_77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written without its dash beside the sender's own is held",
        C2,
        plain("Rezygnacja", "Rezygnuję z usług vps-12345 oraz vps77777 z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "another customer's server id written with a number sign is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi VPS #77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's server id written with nr is rejected",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi vps nr 77777 z końcem miesiąca."),
        REJECTED,
    ),
    attack(
        "another customer's domain as a URL in a DNS change is rejected",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A dla https://kwiaty.pl na 203.0.113.66."),
        REJECTED,
    ),
    attack(
        "a transfer with a valid code naming no service is held for review",
        C2,
        plain("Kod AuthInfo", "Proszę o kod AuthInfo.\nKod jednorazowy: {code}"),
        REVIEW,
        code=True,
        checks=(("service-scope", "none"),),
    ),
    attack(
        "a DNS change naming no service is held for review",
        C2,
        plain("DNS", "Proszę o zmianę rekordu DNS typu A na 203.0.113.66."),
        REVIEW,
        checks=(("service-scope", "none"),),
    ),
    attack(
        "a cancellation naming no service is held for review",
        C2,
        plain("Rezygnacja", "Rezygnuję z usługi z końcem miesiąca."),
        REVIEW,
    ),
    attack(
        "the sender's own domain beside another customer's is held for review",
        C2,
        plain("DNS", "Proszę o zmianę DNS dla acme.pl i beta.pl."),
        REVIEW,
    ),
    pytest.param(
        Row(
            C2,
            plain(
                "Serwery DNS",
                "Proszę o zmianę serwerów DNS domeny acme.pl na ns1.agencja.pl i ns2.agencja.pl.",
            ),
            REVIEW,
            attack=False,
        ),
        id=f"{C2}: name servers at an agency that is also a customer are held for review",
    ),
]
