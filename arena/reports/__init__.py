"""What the reading commands compute from a store: the vibe check, the leaderboard recipe, the doctor's findings."""
