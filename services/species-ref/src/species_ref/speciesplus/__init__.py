"""Species+ (api.speciesplus.net) sync: client, mapping to species-ref rows, and the sync."""
