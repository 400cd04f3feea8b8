"""The report after the event: tables from the archive, charts as inline SVG, HTML, PDF, CSV and JSON."""
