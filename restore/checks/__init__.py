"""Checks: the vocabulary, the ordered list of check ids, preflight, share root, probe, server side, JUnit."""
