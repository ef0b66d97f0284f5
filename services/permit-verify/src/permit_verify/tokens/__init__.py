"""Compact signed tokens of permits for QR codes, and checking scanned ones."""
