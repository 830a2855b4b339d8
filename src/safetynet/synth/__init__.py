"""Synthetic data: a whole trust of fictional people, from a documented stochastic model."""
