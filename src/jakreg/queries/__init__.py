"""Data queries: a monitor asks about one field of one record, the centre answers, the monitor closes."""
