"""The restore plan: one evaluation of a location for a restore, which every command renders."""
