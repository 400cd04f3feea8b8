"""The archive: what outlives the event, as Parquet part files under var/archive/<event id>/ (read with DuckDB)."""
