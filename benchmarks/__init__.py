"""Benchmarks: statlogit against a peer, side by side in one process."""
