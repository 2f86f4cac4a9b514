"""Run records: the one contract between components (typed models, the store and its index, per-problem scores)."""
