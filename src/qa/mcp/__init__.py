"""The MCP surface (official `mcp` SDK): the server and its tool definitions."""
