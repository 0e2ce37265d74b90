"""Presentations of a derivation: the Ensimag per-neuron form, and computation graphs."""
