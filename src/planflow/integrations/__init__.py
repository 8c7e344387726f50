"""Adapters to the world outside: e-mail today."""
