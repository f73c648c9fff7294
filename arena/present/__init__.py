"""Rich renderables for the terminal (tables, the safe console); no textual."""
