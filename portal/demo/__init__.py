"""``flask demo load``: a believable provider office for the active catalog, for newcomers."""
