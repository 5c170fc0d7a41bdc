//! Every WGSL uniform struct against its `#[repr(C)]` Rust twin, and the WGSL constants the
//! Rust side relies on, read from the shaders by naga's WGSL front end (the parser wgpu
//! itself uses). Replaces the "keep in sync" comments: a field added, moved or retyped on one
//! side only fails here, without a GPU.

use std::mem::{offset_of, size_of};

use super::context::{LOSS_WGSL, REDUCE_WGSL, WG_1D};
use super::conv::ConvParams;
use super::elementwise::ElemParams;
use super::loss::{self, LossParams, SumParams};
use super::optim::{AdamWParams, SgdParams};
use super::reduce::{self, ReduceParams};
use super::resize::ResizeParams;
use crate::backend::head_loss::PARTIALS_PER_ANCHOR;

/// The parsed module of one WGSL source (panics with naga's message on a parse error).
fn module(src: &str) -> naga::Module {
    naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{}", e.emit_to_string(src)))
}

/// `(size, [(field, offset)])` of the struct `name` in `m`, padding fields (`_...`) left out.
fn wgsl_layout(m: &naga::Module, name: &str) -> (usize, Vec<(String, usize)>) {
    let ty = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name} in the shader"))
        .1;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct");
    };
    let fields = members
        .iter()
        .filter_map(|f| {
            let n = f.name.clone().unwrap_or_default();
            (!n.starts_with('_')).then_some((n, f.offset as usize))
        })
        .collect();
    (*span as usize, fields)
}

/// The value of the `u32` constant `name` in `m`.
fn wgsl_u32(m: &naga::Module, name: &str) -> u32 {
    let c = m
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no constant {name} in the shader"))
        .1;
    match m.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref e => panic!("{name} is not a u32 literal: {e:?}"),
    }
}

/// `(size, [(field, offset)])` of a Rust struct, for the named (non-padding) fields.
macro_rules! rust_layout {
    ($t:ty { $($f:ident),* $(,)? }) => {
        (
            size_of::<$t>(),
            vec![$((stringify!($f).to_string(), offset_of!($t, $f))),*],
        )
    };
}

fn check(src: &str, name: &str, rust: (usize, Vec<(String, usize)>)) {
    let wgsl = wgsl_layout(&module(src), name);
    assert_eq!(
        wgsl.1, rust.1,
        "{name}: fields and offsets (WGSL left, Rust right)"
    );
    assert_eq!(wgsl.0, rust.0, "{name}: size (WGSL left, Rust right)");
}

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
