"""The rules of the diagnosis, one module per family of causes.

Each rule is a function of the connection's :class:`~tlsdissect.diagnosis.facts.Facts` that
returns a :class:`~tlsdissect.diagnosis.candidate.Candidate` when the facts it starts from
are there and None otherwise. Which rules are tried, and in which order, is
:mod:`tlsdissect.diagnosis.ranking`'s business: a rule may count on the ones ranked before
it in its family not having applied (each says so), never on anything else.
"""
