"""Floor 3: what users touch. One module per family."""
