//! Objective weighting (w_cls, w_reg, guided loss) and normalisers (num_pos, EMA).
