"""Test helpers shared by tests/ and bench/ (kept out of the wheel)."""
