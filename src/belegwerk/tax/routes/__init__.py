"""REST routes of the tax outputs."""
