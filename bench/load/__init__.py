"""Load generators: wrk with its Lua script (intake), the asyncio generator process
(`python -m bench.load.generator`) over a minimal HTTP client, and the bulk history loader.
"""
