//! Resizing ops: nearest 2x upsampling (FPN top-down path) and the balanced pyramid's
//! rescaling (Libra R-CNN): adaptive max pooling and nearest interpolation to a target size.
//! Each works plane by plane (`N * C` planes) in parallel; backward ACCUMULATES into `dx`.

use crate::backend::tensor::Tensor;
use rayon::prelude::*;

/// Nearest 2x upsampling: `[N, C, H, W] -> [N, C, 2H, 2W]`.
pub fn upsample_nearest2x_forward(x: &Tensor) -> Tensor {
    interpolate_nearest_forward(x, 2 * x.h(), 2 * x.w())
}

/// Backward of [`upsample_nearest2x_forward`]: each input pixel collects its 2x2 block of `dy`.
pub fn upsample_nearest2x_backward(dy: &Tensor, dx: &mut Tensor) {
    let [_, _, h, w] = dx.shape;
    assert_eq!(
        dy.shape,
        [dx.n(), dx.c(), 2 * h, 2 * w],
        "upsample2x: dy shape"
    );
    let (ow, plane_in, plane_out) = (2 * w, h * w, 4 * h * w);
    if plane_in == 0 {
        return;
    }
    dx.data
        .par_chunks_mut(plane_in)
        .zip(dy.data.par_chunks(plane_out))
        .for_each(|(dx, dy)| {
            for y in 0..h {
                let (r0, r1) = (&dy[2 * y * ow..][..ow], &dy[(2 * y + 1) * ow..][..ow]);
                for (x, d) in dx[y * w..(y + 1) * w].iter_mut().enumerate() {
                    *d += (r0[2 * x] + r0[2 * x + 1]) + (r1[2 * x] + r1[2 * x + 1]);
                }
            }
        });
}

/// Source index of output index `o` for nearest interpolation from `n_in` to `n_out`
/// (PyTorch `mode="nearest"`: `floor(o * n_in / n_out)`).
fn nearest_src(o: usize, n_in: usize, n_out: usize) -> usize {
    (o * n_in / n_out).min(n_in - 1)
}

/// Nearest interpolation to `oh x ow` (PyTorch `F.interpolate(mode="nearest")`).
pub fn interpolate_nearest_forward(x: &Tensor, oh: usize, ow: usize) -> Tensor {
    let [n, c, h, w] = x.shape;
    let mut y = Tensor::zeros([n, c, oh, ow]);
    if h * w == 0 || oh * ow == 0 {
        return y;
    }
    let cols: Vec<usize> = (0..ow).map(|o| nearest_src(o, w, ow)).collect();
    y.data
        .par_chunks_mut(oh * ow)
        .zip(x.data.par_chunks(h * w))
        .for_each(|(y, x)| {
            for (oy, yr) in y.chunks_exact_mut(ow).enumerate() {
                let xr = &x[nearest_src(oy, h, oh) * w..][..w];
                for (v, &sx) in yr.iter_mut().zip(&cols) {
                    *v = xr[sx];
                }
            }
        });
    y
}

/// Backward of [`interpolate_nearest_forward`]: `dx[src] += dy` for every output pixel.
pub fn interpolate_nearest_backward(dy: &Tensor, dx: &mut Tensor) {
    let [n, c, h, w] = dx.shape;
    let [dn, dc, oh, ow] = dy.shape;
    assert_eq!((dn, dc), (n, c), "interpolate: dy shape");
    if h * w == 0 || oh * ow == 0 {
        return;
    }
    let cols: Vec<usize> = (0..ow).map(|o| nearest_src(o, w, ow)).collect();
    dx.data
        .par_chunks_mut(h * w)
        .zip(dy.data.par_chunks(oh * ow))
        .for_each(|(dx, dy)| {
            for (oy, dr) in dy.chunks_exact(ow).enumerate() {
                let xr = &mut dx[nearest_src(oy, h, oh) * w..][..w];
                for (&g, &sx) in dr.iter().zip(&cols) {
                    xr[sx] += g;
                }
            }
        });
}

/// Adaptive max pooling to `oh x ow` (PyTorch bins: `[floor(i*H/oh), ceil((i+1)*H/oh))`).
/// Returns the output and, per output pixel, the index of the winner inside its plane
/// (first maximum on ties), which the backward needs.
pub fn adaptive_max_pool_forward(x: &Tensor, oh: usize, ow: usize) -> (Tensor, Vec<u32>) {
    let [n, c, h, w] = x.shape;
    assert!(
        h >= 1 && w >= 1 && oh >= 1 && ow >= 1,
        "adaptive_max_pool: empty sizes"
    );
    let mut y = Tensor::zeros([n, c, oh, ow]);
    let mut idx = vec![0u32; y.len()];
    let bin =
        |i: usize, n_in: usize, n_out: usize| (i * n_in / n_out, ((i + 1) * n_in).div_ceil(n_out));
    y.data
        .par_chunks_mut(oh * ow)
        .zip(idx.par_chunks_mut(oh * ow))
        .zip(x.data.par_chunks(h * w))
        .for_each(|((y, idx), x)| {
            for oy in 0..oh {
                let (y0, y1) = bin(oy, h, oh);
                for ox in 0..ow {
                    let (x0, x1) = bin(ox, w, ow);
                    let (mut best, mut arg) = (f32::NEG_INFINITY, y0 * w + x0);
                    for iy in y0..y1 {
                        for ix in x0..x1 {
                            let v = x[iy * w + ix];
                            if v > best || v.is_nan() {
                                (best, arg) = (v, iy * w + ix);
                                if v.is_nan() {
                                    break;
                                }
                            }
                        }
                    }
                    y[oy * ow + ox] = x[arg];
                    idx[oy * ow + ox] = arg as u32;
                }
            }
        });
    (y, idx)
}

/// Backward of [`adaptive_max_pool_forward`]: routes each `dy` to its winner, `dx += ...`.
pub fn adaptive_max_pool_backward(dy: &Tensor, idx: &[u32], dx: &mut Tensor) {
    let [n, c, h, w] = dx.shape;
    let [dn, dc, oh, ow] = dy.shape;
    assert_eq!((dn, dc), (n, c), "adaptive_max_pool: dy shape");
    assert_eq!(idx.len(), dy.len(), "adaptive_max_pool: index length");
    if h * w == 0 || oh * ow == 0 {
        return;
    }
    dx.data
        .par_chunks_mut(h * w)
        .zip(dy.data.par_chunks(oh * ow).zip(idx.par_chunks(oh * ow)))
        .for_each(|(dx, (dy, idx))| {
            for (&g, &i) in dy.iter().zip(idx) {
                dx[i as usize] += g;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::test_support::{check_grad, dot, rand_tensor};

    fn t(shape: [usize; 4], v: &[f32]) -> Tensor {
        Tensor::from_vec(shape, v.to_vec())
    }

    #[test]
    fn upsample_values_and_gradient() {
        let x = t([1, 1, 2, 2], &[1.0, 2.0, 3.0, 4.0]);
        let y = upsample_nearest2x_forward(&x);
        assert_eq!(&y.data[..8], &[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
        let x = rand_tensor([2, 3, 5, 5], 1);
        let r = rand_tensor([2, 3, 10, 10], 2);
        let mut dx = Tensor::zeros(x.shape);
        upsample_nearest2x_backward(&r, &mut dx);
        check_grad("upsample", &x.data, &dx.data, 1e-2, 1e-3, |v| {
            dot(&upsample_nearest2x_forward(&t(x.shape, v)).data, &r.data)
        });
    }

    #[test]
    fn interpolate_gradient_up_and_down() {
        for &(h, w, oh, ow) in &[(5, 5, 10, 10), (8, 8, 4, 4), (5, 3, 7, 2), (4, 4, 4, 4)] {
            let x = rand_tensor([2, 3, h, w], 3);
            let r = rand_tensor([2, 3, oh, ow], 4);
            let mut dx = Tensor::zeros(x.shape);
            interpolate_nearest_backward(&r, &mut dx);
            check_grad("interpolate", &x.data, &dx.data, 1e-2, 1e-3, |v| {
                dot(
                    &interpolate_nearest_forward(&t(x.shape, v), oh, ow).data,
                    &r.data,
                )
            });
        }
        // 8 -> 4 picks every other pixel (PyTorch nearest)
        let x = t([1, 1, 1, 8], &[0., 1., 2., 3., 4., 5., 6., 7.]);
        let y = interpolate_nearest_forward(&x, 1, 4);
        assert_eq!(y.data, vec![0., 2., 4., 6.]);
    }

    #[test]
    fn adaptive_max_pool_values_and_gradient() {
        let x = t([1, 1, 1, 5], &[1., 5., 2., 0., 3.]);
        let (y, idx) = adaptive_max_pool_forward(&x, 1, 2); // bins [0,3) and [2,5)
        assert_eq!(y.data, vec![5., 3.]);
        assert_eq!(idx, vec![1, 4]);
        for &(h, w, oh, ow) in &[(5, 5, 2, 2), (8, 8, 4, 4), (5, 7, 3, 2), (4, 4, 4, 4)] {
            let x = rand_tensor([2, 3, h, w], 5);
            let r = rand_tensor([2, 3, oh, ow], 6);
            let (_, idx) = adaptive_max_pool_forward(&x, oh, ow);
            let mut dx = Tensor::zeros(x.shape);
            adaptive_max_pool_backward(&r, &idx, &mut dx);
            check_grad("adaptive_max_pool", &x.data, &dx.data, 1e-3, 1e-3, |v| {
                dot(
                    &adaptive_max_pool_forward(&t(x.shape, v), oh, ow).0.data,
                    &r.data,
                )
            });
        }
    }
}
