"""Web pages of the tax outputs."""
