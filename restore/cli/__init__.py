"""The command line: one module per command, each parsing, calling one function, rendering, exiting."""
