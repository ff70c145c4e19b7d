"""Pledge: an open-source service assurance system."""

__version__ = "0.1.0"
