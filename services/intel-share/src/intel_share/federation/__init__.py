"""Federation: pulling from and pushing to partner countries' instances over TAXII 2.1."""
