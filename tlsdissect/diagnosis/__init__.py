"""The diagnosis: why a handshake failed, who broke it, and what to change.

Takes a finished connection's result (timeline, alerts, messages, certificate findings) and
hands out a ``Diagnosis``: outcome, failure point, who aborted and how, the cause from the
catalogue (``causes``), its confidence, alternatives, evidence with frame numbers, and remedy.
"""
