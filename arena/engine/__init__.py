"""Running models: spec strings, the model pool, streaming, battles, parity and fidelity. Never the store, a
session or a UI.
"""
