//! Every WGSL uniform struct against its `#[repr(C)]` Rust twin, and the WGSL constants the
//! Rust side relies on, read from the shaders by naga's WGSL front end (the parser wgpu
//! itself uses). Replaces the "keep in sync" comments: a field added, moved or retyped on one
//! side only fails here, without a GPU.

use super::wgsl_reflect::{check, module, rust_layout, wgsl_u32};

use super::context::{LOSS_WGSL, REDUCE_WGSL, WG_1D};
use super::conv::ConvParams;
use super::elementwise::ElemParams;
use super::loss::{self, LossParams, SumParams};
use super::optim::{AdamWParams, SgdParams};
use super::reduce::{self, ReduceParams};
use super::resize::ResizeParams;
use crate::backend::head_loss::PARTIALS_PER_ANCHOR;

#[test]
fn uniform_structs_match_their_rust_twins() {
    let conv = include_str!("../../../shaders/conv.wgsl");
    let elem = include_str!("../../../shaders/elementwise.wgsl");
    let optim = include_str!("../../../shaders/optim.wgsl");
    let resize = include_str!("../../../shaders/resize.wgsl");
    check(
        conv,
        "ConvParams",
        rust_layout!(ConvParams {
            n,
            cin,
            h,
            w,
            cout,
            kh,
            kw,
            ho,
            wo,
            stride,
            pad,
            has_bias
        }),
    );
    check(elem, "ElemParams", rust_layout!(ElemParams { len, alpha }));
    check(
        optim,
        "SgdParams",
        rust_layout!(SgdParams {
            len,
            lr,
            momentum,
            weight_decay
        }),
    );
    check(
        optim,
        "AdamWParams",
        rust_layout!(AdamWParams {
            len,
            beta1,
            beta2,
            eps,
            step_size,
            bc2_sqrt,
            decay
        }),
    );
    check(
        resize,
        "ResizeParams",
        rust_layout!(ResizeParams {
            planes,
            h,
            w,
            oh,
            ow,
            alpha
        }),
    );
    check(
        REDUCE_WGSL,
        "ReduceParams",
        rust_layout!(ReduceParams {
            len,
            slot,
            max_norm
        }),
    );
    check(
        LOSS_WGSL,
        "LossParams",
        rust_layout!(LossParams {
            a,
            c,
            h,
            w,
            level_start,
            anchors_per_image,
            n_images,
            cls_kind,
            reg_kind,
            gc,
            gr,
            reg_const,
            cls_p,
            reg_p,
        }),
    );
    check(
        LOSS_WGSL,
        "SumParams",
        rust_layout!(SumParams {
            n_anchors,
            chunks,
            offset
        }),
    );
}

#[test]
fn shader_constants_match_rust() {
    let c = module(include_str!("../../../shaders/conv.wgsl"));
    assert_eq!(
        wgsl_u32(&c, "BLOCK") as usize,
        super::conv::BLOCK,
        "conv BLOCK"
    );
    assert_eq!(wgsl_u32(&c, "FWD_CO"), super::conv::FWD_CO, "conv FWD_CO");
    let r = module(REDUCE_WGSL);
    assert_eq!(
        wgsl_u32(&r, "CHUNK") as usize,
        reduce::CHUNK,
        "reduce CHUNK"
    );
    assert_eq!(wgsl_u32(&r, "WG"), reduce::WG, "reduce WG");
    let l = module(LOSS_WGSL);
    assert_eq!(
        wgsl_u32(&l, "CHUNK") as usize,
        loss::SUM_CHUNK,
        "loss CHUNK"
    );
    assert_eq!(wgsl_u32(&l, "WG_1D"), WG_1D, "loss WG_1D");
    assert_eq!(
        wgsl_u32(&l, "TARGET_WORDS") as usize,
        loss::TARGET_WORDS,
        "TARGET_WORDS"
    );
    assert_eq!(wgsl_u32(&l, "NPART") as usize, PARTIALS_PER_ANCHOR, "NPART");
    assert_eq!(wgsl_u32(&l, "CLS_FOCAL"), loss::CLS_FOCAL, "CLS_FOCAL");
    assert_eq!(wgsl_u32(&l, "REG_L1"), loss::REG_L1, "REG_L1");
    assert_eq!(wgsl_u32(&l, "REG_L2"), loss::REG_L2, "REG_L2");
    assert_eq!(
        wgsl_u32(&l, "REG_SMOOTH_L1"),
        loss::REG_SMOOTH_L1,
        "REG_SMOOTH_L1"
    );
}
