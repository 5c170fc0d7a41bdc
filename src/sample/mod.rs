//! Hard samplers: which anchors take part in the loss, and with what weight.
