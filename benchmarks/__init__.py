"""Accuracy and speed harnesses; run with `make bench` (not part of `make test`)."""
