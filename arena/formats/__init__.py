"""Translation only: export formats and FastChat battles both ways."""
