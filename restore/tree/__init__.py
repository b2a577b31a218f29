"""The recovery-point model and reading it from a backend: trees, computers, points, specs, images, writers."""
