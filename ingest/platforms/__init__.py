"""Adapters for trading-platform exports: each turns one file into the canonical model."""
