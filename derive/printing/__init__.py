"""Printers: one class per output format (plain text, NumPy); reports add LaTeX documents."""
