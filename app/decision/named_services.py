"""Which registered services a message names, found the way an agent reading it would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from app.registry.customers import Owned, names_to_try, owned_services
from app.registry.index import RegistryView
from app.registry.lookalikes import imitated_services
from mailhook.confusables import display_form

How = Literal["exact", "parent", "lookalike"]


@dataclass(frozen=True, slots=True)
class Named:
    """A name the message gives, the registered service it stands for, and how it was found.

    ``exact``: the service itself. ``parent``: a host of it (``www.acme.pl`` names
    ``acme.pl``). ``lookalike``: it looks like the service (UTS #39 skeleton) but is not it.
    """

    written: str
    service: Owned
    how: How

    @property
    def shown(self) -> str:
        """The name as a mail program shows it, with its A-label when that differs."""
        displayed = display_form(self.written)
        return displayed if displayed == self.written else f"{displayed} ({self.written})"


def resolve(
    session: Session, names: tuple[str, ...], registry: RegistryView | None = None
) -> dict[str, Named]:
    """The registered service each of ``names`` (A-labels, server ids) stands for, if any.

    The name itself if registered; else its longest registered parent up to the
    organisational domain; else a registered domain it imitates. A name that resolves
    to nothing (a name server elsewhere, a web site) is no service of ours.
    ``registry``: the in-memory index of this transaction, if any (app.registry.index).
    """
    tried = {name: names_to_try(name) for name in names}
    candidates = tuple(n for parents in tried.values() for n in parents)
    owned = (
        registry.owned_services(candidates)
        if registry is not None
        else owned_services(session, candidates)
    )
    resolved: dict[str, Named] = {}
    for name, parents in tried.items():
        registered = next((parent for parent in parents if parent in owned), None)
        if registered is not None:
            how: How = "exact" if registered == name else "parent"
            resolved[name] = Named(name, owned[registered], how)
    unresolved = tuple(name for name in names if name not in resolved and "." in name)
    imitated = (
        registry.imitated_services(unresolved)
        if registry is not None
        else imitated_services(session, unresolved)
    )
    for name, service in imitated.items():
        resolved[name] = Named(name, service, "lookalike")
    return resolved
