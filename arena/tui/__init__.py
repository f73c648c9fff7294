"""The Textual user interface. Imported only by ``arena play`` / ``arena demo``; the core never imports it."""
