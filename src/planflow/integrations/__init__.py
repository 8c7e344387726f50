"""Adapters to the world outside: e-mail, the key that signs audit checkpoints, and where
those checkpoints are published."""
