"""Copying a recovery point to the share a restore will use: plan, transfer, verify, manifests."""
