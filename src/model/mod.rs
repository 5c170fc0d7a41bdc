//! The small RetinaNet-style detector: parameters, initialisation, forward and backward.
