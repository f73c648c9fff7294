"""Pure functions over texts and votes (numpy at most): flags, style, statistics, judges' agreement, ratings. Never
the store or a model.
"""
