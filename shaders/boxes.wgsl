// Instanced box overlay: fills and outlines of axis-aligned boxes (anchors, GT boxes).
//
// Each instance is one box. A draw of vertices 0..6 emits its fill quad; a draw of vertices
// 6..30 emits its four outline bands (top, bottom, left, right). The five quads partition the
// box, so a translucent outline never blends over its own fill, and only outline pixels are
// rasterised for outline-only boxes (no fragment work for their interiors).
// Hidden parts (alpha 0, group masked out) collapse to a zero-area triangle.
//
// `Uniforms` and `Instance` are checked against src/app/overlay/instances.rs (`Uniforms`,
// `BoxInstance`) and the vertex attributes of pipeline.rs by src/app/overlay/tests_layout.rs.

struct Uniforms {
    // Target pixels per image pixel.
    scale: vec2<f32>,
    // Target pixel (relative to the viewport's top-left) of image point (0, 0).
    offset: vec2<f32>,
    // Viewport size in target pixels.
    viewport: vec2<f32>,
    // Converts outline thickness (points) to target pixels.
    px_per_point: f32,
    // Multiplies every alpha.
    opacity: f32,
    // Bit g set: instances of group g are drawn (groups >= 31 use bit 31).
    group_mask: u32,
    // 1: the target is an sRGB (linear-blending) format, convert colours to linear.
    linear_output: u32,
    _pad: vec2<u32>,
};

@group(0) @binding(0) var<uniform> u: Uniforms;

struct Instance {
    // xyxy in image pixels.
    @location(0) rect: vec4<f32>,
    // Non-premultiplied sRGB (gamma) rgba in 0..1.
    @location(1) fill: vec4<f32>,
    @location(2) outline: vec4<f32>,
    // Outline width in points, drawn inside the box.
    @location(3) thickness: f32,
    @location(4) group: u32,
};

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    @location(0) @interpolate(flat) color: vec4<f32>,
};

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let lo = c / 12.92;
    let hi = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(hi, lo, c <= vec3<f32>(0.04045));
}

// Premultiplied output colour, in the target's space.
fn shade(c: vec4<f32>) -> vec4<f32> {
    let a = clamp(c.a * u.opacity, 0.0, 1.0);
    var rgb = clamp(c.rgb, vec3<f32>(0.0), vec3<f32>(1.0));
    if u.linear_output == 1u {
        rgb = srgb_to_linear(rgb);
    }
    return vec4<f32>(rgb * a, a);
}

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, inst: Instance) -> VsOut {
    var out: VsOut;
    let quad = vi / 6u;
    let corner = vi % 6u;
    // Two triangles: (0,0) (1,0) (0,1) / (0,1) (1,0) (1,1).
    let c = vec2<f32>(f32((0x32u >> corner) & 1u), f32((0x2Cu >> corner) & 1u));

    // Box in target pixels, at least one pixel wide and tall so that it never vanishes.
    var p0 = inst.rect.xy * u.scale + u.offset;
    var p1 = inst.rect.zw * u.scale + u.offset;
    let centre = 0.5 * (p0 + p1);
    let half = max(0.5 * abs(p1 - p0), vec2<f32>(0.5));
    p0 = centre - half;
    p1 = centre + half;

    let visible_group = ((u.group_mask >> min(inst.group, 31u)) & 1u) == 1u;
    let has_outline = inst.outline.a * u.opacity > 0.0 && inst.thickness > 0.0;
    let t = select(0.0, inst.thickness * u.px_per_point, has_outline);
    let tx = min(t, half.x);
    let ty = min(t, half.y);

    var lo: vec2<f32>;
    var hi: vec2<f32>;
    var color: vec4<f32>;
    switch quad {
        case 0u: {
            lo = p0 + vec2<f32>(tx, ty);
            hi = p1 - vec2<f32>(tx, ty);
            color = inst.fill;
        }
        case 1u: {
            lo = p0;
            hi = vec2<f32>(p1.x, p0.y + ty);
            color = inst.outline;
        }
        case 2u: {
            lo = vec2<f32>(p0.x, p1.y - ty);
            hi = p1;
            color = inst.outline;
        }
        case 3u: {
            lo = vec2<f32>(p0.x, p0.y + ty);
            hi = vec2<f32>(p0.x + tx, p1.y - ty);
            color = inst.outline;
        }
        default: {
            lo = vec2<f32>(p1.x - tx, p0.y + ty);
            hi = vec2<f32>(p1.x, p1.y - ty);
            color = inst.outline;
        }
    }
    let draw = visible_group && color.a * u.opacity > 0.0 && (quad == 0u || t > 0.0);
    let p = mix(lo, hi, c);
    let ndc = vec2<f32>(p.x / u.viewport.x * 2.0 - 1.0, 1.0 - p.y / u.viewport.y * 2.0);
    // A hidden quad collapses to one point outside the viewport: nothing is rasterised.
    out.pos = select(vec4<f32>(-2.0, -2.0, 0.0, 1.0), vec4<f32>(ndc, 0.0, 1.0), draw);
    out.color = shade(color);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    return in.color;
}
