"""The species read model kept from SPECIES events: taxon name -> current appendices."""
