"""Tables for analysts: one row per connection (and per QUIC or DTLS handshake), the
DataFrame's columns, as CSV or Parquet.

Both writers take connections one at a time as the run reports them and write as they go
(CSV row by row, Parquet in row groups of ROW_GROUP rows), so memory stays flat however big the
capture. The columns, their order and their types are the DataFrame's (results.model
DATAFRAME_COLUMNS, rows_frame): docs/schema.md documents them once for all three.
"""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from typing import IO, Any, Optional

from tlsdissect.report.udp_rows import handshake_row
from tlsdissect.results.model import DATAFRAME_COLUMNS, Connection, connection_row, rows_frame

ROW_GROUP = 50_000  # Parquet rows buffered before a row group is written

# A spreadsheet runs a cell that starts with one of these as a formula ("CSV injection"): capture
# data (server names, certificate names) can start with anything, so such cells get a leading
# apostrophe, as OWASP recommends; a spreadsheet shows the value, a CSV reader sees the mark.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_TIME_COLUMNS = ("start_time", "end_time", "server_cert_not_after")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _iso(seconds: Optional[float]) -> Optional[str]:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class CsvTable:
    """``--csv``: a header row, then one row per connection. Times in ISO 8601 UTC (``Z``),
    ``duration`` in seconds, empty cells for missing values, booleans as True/False (what
    pandas.read_csv reads back as bool)."""

    def __init__(self, out: IO[str]) -> None:
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(DATAFRAME_COLUMNS)
        self.rows = 0

    def add(self, conn: Connection, capture: str) -> None:
        self.add_row(connection_row(conn, capture))

    def add_udp(self, handshake: Any, capture: str) -> None:
        """A QUIC handshake's or DTLS association's row (report.udp_rows)."""
        self.add_row(handshake_row(handshake, capture))

    def add_row(self, row: dict[str, Any]) -> None:
        """A row made elsewhere (connection_row; a Dask worker's, for --cluster); not changed."""
        row = {**row}
        for col in _TIME_COLUMNS:
            row[col] = _iso(row[col])
        self.writer.writerow([csv_cell(row[col]) for col in DATAFRAME_COLUMNS])
        self.rows += 1

    def close(self) -> None:
        pass


class ParquetTable:
    """``--parquet`` (needs pyarrow: ``pip install 'tlsdissect[parquet]'``): the DataFrame's
    columns with its dtypes, written in row groups; categorical columns as dictionaries, so
    pandas.read_parquet gives back the DataFrame ``Report.to_dataframe()`` gives."""

    def __init__(self, out: Any) -> None:
        import pyarrow as pa  # noqa: F401  (fails here, before any work, when it is missing)

        self.out = out
        self.pending: list[dict[str, Any]] = []
        self.writer: Any = None
        self.schema: Any = None
        self.rows = 0

    def add(self, conn: Connection, capture: str) -> None:
        self.add_row(connection_row(conn, capture))

    def add_udp(self, handshake: Any, capture: str) -> None:
        """A QUIC handshake's or DTLS association's row (report.udp_rows)."""
        self.add_row(handshake_row(handshake, capture))

    def add_row(self, row: dict[str, Any]) -> None:
        """A row made elsewhere (connection_row; a Dask worker's, for --cluster)."""
        self.pending.append(row)
        self.rows += 1
        if len(self.pending) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self.pending and self.writer is not None:
            return
        table = pa.Table.from_pandas(rows_frame(self.pending), preserve_index=False)
        self.pending = []
        if self.schema is None:
            # Dictionary indices as int32 in every row group (pandas picks the narrowest width
            # per batch, and a file's row groups must share one schema).
            # Strings as the dictionaries' values, also for a first batch where a column is empty.
            fields = [pa.field(f.name, pa.dictionary(pa.int32(), pa.string()))
                      if pa.types.is_dictionary(f.type) else f for f in table.schema]
            self.schema = pa.schema(fields, metadata=table.schema.metadata)
            self.writer = pq.ParquetWriter(self.out, self.schema)
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        self._flush()
        if self.writer is not None:
            self.writer.close()
