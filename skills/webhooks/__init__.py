"""Webhooks: signed deliveries of changes to URLs users and households subscribe."""
