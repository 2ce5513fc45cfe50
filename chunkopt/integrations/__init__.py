"""Thin adapters between chunkopt and other libraries; the core never imports them."""
