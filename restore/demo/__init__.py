"""The demo and the sample trees it writes (also used by tests and benchmarks): VHDX writer, throwaway Samba."""
