"""The DR drill: the inventory, running many preflights at once, and the report."""
