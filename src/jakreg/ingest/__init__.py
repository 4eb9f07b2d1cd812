"""Readers for the study workbook (xlsx or a folder of CSV files) and validation that collects every problem."""
