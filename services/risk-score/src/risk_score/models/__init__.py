"""The learned model: trained from recorded outcomes, versioned, promoted when it does better."""
