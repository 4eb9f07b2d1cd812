"""Interoperability: REDCap data dictionary and records, GA4GH phenopackets (export and import)."""
