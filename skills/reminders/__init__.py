"""Reminders that fire: planned from tasks and events, claimed, delivered, snoozed."""
