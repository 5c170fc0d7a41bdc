//! The overlay's data against shaders/boxes.wgsl, read by naga's WGSL front end: the
//! `Uniforms` block field by field, and each vertex attribute of `Instance` (location,
//! format) against `INSTANCE_ATTRIBUTES` and the field of [`BoxInstance`] it reads.

use super::instances::{BoxInstance, Uniforms};
use super::pipeline::INSTANCE_ATTRIBUTES;
use crate::backend::gpu::wgsl_reflect::{check, module, rust_layout};
use std::mem::offset_of;

const BOXES_WGSL: &str = include_str!("../../../shaders/boxes.wgsl");

#[test]
fn uniforms_match_wgsl() {
    check(
        BOXES_WGSL,
        "Uniforms",
        rust_layout!(Uniforms {
            scale,
            offset,
            viewport,
            px_per_point,
            opacity,
            group_mask,
            linear_output
        }),
    );
}

/// The vertex format a WGSL vertex input of type `ty` reads.
fn vertex_format(m: &naga::Module, ty: naga::Handle<naga::Type>) -> wgpu::VertexFormat {
    match m.types[ty].inner {
        naga::TypeInner::Vector {
            size: naga::VectorSize::Quad,
            scalar: naga::Scalar::F32,
        } => wgpu::VertexFormat::Float32x4,
        naga::TypeInner::Scalar(naga::Scalar::F32) => wgpu::VertexFormat::Float32,
        naga::TypeInner::Scalar(naga::Scalar::U32) => wgpu::VertexFormat::Uint32,
        ref t => panic!("no vertex format in this test for {t:?}"),
    }
}

#[test]
fn instance_attributes_match_wgsl_and_box_instance() {
    let m = module(BOXES_WGSL);
    let (_, ty) = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some("Instance"))
        .expect("struct Instance in boxes.wgsl");
    let naga::TypeInner::Struct { members, .. } = &ty.inner else {
        panic!("Instance is not a struct");
    };
    let field_offset = |name: &str| match name {
        "rect" => offset_of!(BoxInstance, rect),
        "fill" => offset_of!(BoxInstance, fill),
        "outline" => offset_of!(BoxInstance, outline),
        "thickness" => offset_of!(BoxInstance, thickness),
        "group" => offset_of!(BoxInstance, group),
        other => panic!("Instance.{other} has no BoxInstance field in this test"),
    };
    assert_eq!(members.len(), INSTANCE_ATTRIBUTES.len(), "attribute count");
    for mem in members {
        let name = mem.name.as_deref().unwrap_or_default();
        let Some(naga::Binding::Location { location, .. }) = mem.binding else {
            panic!("Instance.{name} has no @location");
        };
        let attr = INSTANCE_ATTRIBUTES
            .iter()
            .find(|a| a.shader_location == location)
            .unwrap_or_else(|| panic!("no vertex attribute at location {location} ({name})"));
        assert_eq!(
            attr.format,
            vertex_format(&m, mem.ty),
            "Instance.{name}: format"
        );
        assert_eq!(
            attr.offset as usize,
            field_offset(name),
            "Instance.{name}: offset in BoxInstance"
        );
    }
}
