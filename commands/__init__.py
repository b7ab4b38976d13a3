"""Application services: one per bounded context, one method per use case (load, decide, save)."""
