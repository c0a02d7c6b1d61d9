"""Vendor portal adapters and what they share (protocol, errors, HTTP, browser)."""
