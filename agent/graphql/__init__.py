"""/graphql: the same services as the REST routes, as one GraphQL schema (strawberry),
with live changes over WebSocket (graphql-transport-ws)."""
