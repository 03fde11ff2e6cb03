"""TCP conversations: ``tcp.stream`` numbering, roles, end of life, and reassembly.

Takes the capture stage's segments and hands each conversation's two byte streams, in order
and with their holes marked, to a consumer the pipeline gives it (``consumer.StreamConsumer``; a
TLS session today). ``flows`` keeps the table of conversations within its memory budget;
``reassembly`` puts one direction's bytes in order. Nothing here knows TLS.
"""
