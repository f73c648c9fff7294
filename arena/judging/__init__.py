"""Sessions, UI-agnostic: a judging session (play), its answers, and headless batch runs. Front ends drive it; it
never imports one.
"""
