"""Generator families, one module per category; they register with clawgym.synth.family on import."""
