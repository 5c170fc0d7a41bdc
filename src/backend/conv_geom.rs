//! Convolution geometry shared by every backend: stride, padding and the output size.

/// Stride and zero padding of a convolution, the same along both axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Step between output positions, in input pixels.
    pub stride: usize,
    /// Zeros added on every side of the input.
    pub pad: usize,
}

impl ConvGeom {
    /// A convolution with the given stride and padding.
    pub const fn new(stride: usize, pad: usize) -> Self {
        Self { stride, pad }
    }
}

/// Output height and width of a convolution with a `kh x kw` kernel.
pub fn conv2d_out_size(h: usize, w: usize, kh: usize, kw: usize, g: ConvGeom) -> (usize, usize) {
    assert!(g.stride > 0 && h + 2 * g.pad >= kh && w + 2 * g.pad >= kw);
    (
        (h + 2 * g.pad - kh) / g.stride + 1,
        (w + 2 * g.pad - kw) / g.stride + 1,
    )
}
