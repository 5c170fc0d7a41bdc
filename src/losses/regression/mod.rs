//! Box regression losses (L1 to CIoU, balanced L1, bounded IoU, KL).
