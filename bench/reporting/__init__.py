"""Pure figures and their presentation: statistics, result records, goal verdicts, the
markdown summary, and the parsers of what external tools print. No I/O.
"""
