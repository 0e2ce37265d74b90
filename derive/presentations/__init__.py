"""Presentations of the engine's derivation: the Ensimag per-neuron form (per_neuron.py)."""
