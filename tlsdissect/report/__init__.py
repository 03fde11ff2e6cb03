"""The views of the results: the terminal text, the Jupyter HTML, the tables, the Zeek logs and
the annotated pcapng.

Takes finished results (``results.model``) and renders them; nothing here reads packets or
changes a result (``annotate`` has the capture stage copy the capture with its comments).
``text`` is the command line's view (rich), ``notebook`` the HTML tables that
``Report._repr_html_`` and ``Connection._repr_html_`` show, ``html`` the self-contained page of
``--html`` and ``Report.to_html()`` (with ``ladder_svg``), ``story`` and ``summary`` the data the
text and the page both show.
"""
