"""Text for the person restoring: wbadmin command lines, WinRE steps, checklists. Pure functions, no I/O."""
