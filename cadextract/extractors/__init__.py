"""Extractors: one module per format behind one interface (see ``base``) and a registry."""
