//! Classification and regression losses, each giving per-element values and gradients.
