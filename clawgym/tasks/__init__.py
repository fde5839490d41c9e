"""Tasks on disk: clawgym's own JSONL and folder forms, ClawGym task directories and PinchBench tasks, loaded and written."""
