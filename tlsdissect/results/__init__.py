"""The results: plain data that the stages fill in and the views read.

``model`` holds ``Connection``, ``Event``, ``Alert``, ``TcpClose`` and ``Report`` with their stable JSON
forms (docs/schema.md), ``outcome`` what counts as failed, ``jsontext`` the JSON writer. It sits
at the bottom of the house: it imports no stage and no renderer.
"""
