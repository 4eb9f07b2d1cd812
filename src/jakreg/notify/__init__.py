"""Notifications: an outbox filled by events, sent as one e-mail digest per user (pseudonyms and links only)."""
