//! Classification and regression losses, each giving per-element values and gradients,
//! plus objective weighting and loss normalisers.

pub mod classification;
pub mod regression;
pub mod weighting;
