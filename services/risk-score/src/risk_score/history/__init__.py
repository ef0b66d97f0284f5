"""The trade-history read model: past declarations and their outcomes, as the features need them."""
