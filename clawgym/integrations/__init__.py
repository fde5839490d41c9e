"""Adapters to the field's training stacks: clawgym tasks as TRL and verifiers environments."""
