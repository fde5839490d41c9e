"""Training: SFT with LoRA on verified trajectories, and GRPO in per-task sandboxes."""
