"""Storage adapter: the only code that talks SQL."""
