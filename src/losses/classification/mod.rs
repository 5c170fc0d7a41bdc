//! Sigmoid classification losses (CE, balanced CE, focal, FL*, GHM-C, QFL, varifocal, EQL).
