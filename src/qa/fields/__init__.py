"""Cooperation fields: the taxonomy, assigning attributed sentences to fields, and the
stored map that `qa fields`, `/fields` and the MCP tool read."""
