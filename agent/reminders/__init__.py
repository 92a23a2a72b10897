"""The scheduler that delivers what is due, and the channels it delivers through."""
