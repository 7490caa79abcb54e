"""The HTTP surface: the FastAPI app, its routes, errors, middleware, metrics, the
OpenAI-compatible `/v1` routes and the web page."""
