"""The diagnosis: why a handshake failed, who broke it, and what to change.

Takes a finished connection's result (timeline, alerts, messages, certificate findings) and
hands out a ``Diagnosis``: outcome, failure point, who aborted and how, the cause from the
catalogue (``causes``), its confidence, alternatives, evidence with frame numbers, and remedy.

``reasoner.diagnose`` is the entry: ``facts`` gathers what the connection shows once, the
``rules`` (one module per family of causes) each propose a ``candidate``, and ``ranking`` says
which family is tried, in which order, and so which candidate wins.
"""
