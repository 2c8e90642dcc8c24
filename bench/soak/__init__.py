"""`make soak` (`python -m bench.soak`): the pipeline end to end at a fixed rate for a long
time, sampled, judged (flat RSS and lag, linear growth) and plotted.
"""
