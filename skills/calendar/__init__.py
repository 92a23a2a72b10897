"""Events, recurrence, free time and calendar sync."""
