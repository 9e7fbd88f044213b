"""A deterministic simulated brokerage: the CRM side and the trading platforms' own feeds."""
