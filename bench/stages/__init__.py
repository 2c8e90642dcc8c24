"""The measured stages, one module each: intake, aggregator (with the pre-filled topic),
end to end, reads and growth, profile. `bench.run` chooses and orders them.
"""
