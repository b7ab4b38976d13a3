"""Developer and deployment tooling that is not part of the photoflow domain code."""
