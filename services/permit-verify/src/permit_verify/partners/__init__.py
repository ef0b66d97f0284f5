"""The exchange with partner countries: their permits fetched and checked here, this
registry's permits looked up by them, and confirmations of endorsed quantities both ways."""
