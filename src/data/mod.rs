//! Datasets: the built-in synthetic scenes and dataset statistics.
