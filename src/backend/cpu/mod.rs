//! The CPU backend: tensor ops with forward and backward passes.
