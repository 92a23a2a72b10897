"""Live changes: what was committed, told to whoever is watching (GraphQL subscriptions)."""
