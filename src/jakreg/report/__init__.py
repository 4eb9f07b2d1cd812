"""The study report: figures, tables, HTML and PDF from the analysis results (see docs/report.md)."""
