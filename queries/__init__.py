"""The HTTP API: read routes over the read tables, command routes over the application ports."""
