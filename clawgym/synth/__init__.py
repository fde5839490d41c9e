"""Task synthesis: personas and skills, procedural families, the LLM route, and the gates every synthesized task passes."""
