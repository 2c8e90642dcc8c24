"""The benchmark's footing on the shared stack: isolated namespaces (database, Redis db,
topics, group) and the real service processes it starts, with their CPU read from /proc.
"""
