"""Prompt sets shipped with vibe-arena, installed as the data package ``arena.prompt_sets``."""
