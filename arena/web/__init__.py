"""A front end: `arena serve`, the arena in judges' browsers through textual-serve."""
