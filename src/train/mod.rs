//! Training: targets, the per-anchor loss on head outputs, the optimizer loop, the trainer thread.
