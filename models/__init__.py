"""Shipped model assets: capability sets."""
