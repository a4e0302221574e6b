"""GraphQL for Excel imports: the upload mutation and the progress query."""
