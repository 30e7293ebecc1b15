"""Discord-facing reliability core: imports no feature package."""
