"""The GraphQL layer: thin resolvers that convert input, call the domain and map results."""
