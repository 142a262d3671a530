"""The registry: customers, their identifiers, one-time codes, look-alikes, the importer."""
