"""Tasks, lists and reminders."""
