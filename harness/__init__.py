"""statbench."""
