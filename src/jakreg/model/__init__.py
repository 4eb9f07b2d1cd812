"""Typed domain objects of the study: controlled vocabularies and one validated row type per entity."""
