"""Network and file access behind one contract (:mod:`share.base`) and one error tree (:mod:`share.errors`).

This package is the bottom layer: it imports neither ``restore`` nor ``winre``.
"""
