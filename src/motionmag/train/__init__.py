"""Training: the shared loop (trainer), checkpoints, distributed launch, and each model's task."""
