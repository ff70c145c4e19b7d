"""Template filters for the customer portal."""
