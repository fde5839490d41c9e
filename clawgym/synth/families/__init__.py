"""Generator families, one module per category; each registers its families with `clawgym.synth.procedural.family` on import."""
