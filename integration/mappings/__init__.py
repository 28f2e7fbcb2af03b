"""Admin-edited mapping files: schema, loader with file:line errors, and hot reload."""
