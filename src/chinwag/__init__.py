"""Chinwag: a self-hosted chat server with a REST API, realtime sessions and a browser SDK."""

__version__ = "0.1.0"
