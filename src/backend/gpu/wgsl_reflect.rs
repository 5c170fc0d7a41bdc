//! Test support: WGSL struct layouts and constants read by naga's WGSL front end (the parser
//! wgpu itself uses), compared with their `#[repr(C)]` Rust twins. Used by the backend's and
//! the overlay's layout tests.

/// The parsed module of one WGSL source (panics with naga's message on a parse error).
pub(crate) fn module(src: &str) -> naga::Module {
    naga::front::wgsl::parse_str(src).unwrap_or_else(|e| panic!("{}", e.emit_to_string(src)))
}

/// `(size, [(field, offset)])` of the struct `name` in `m`, padding fields (`_...`) left out.
pub(crate) fn wgsl_layout(m: &naga::Module, name: &str) -> (usize, Vec<(String, usize)>) {
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
pub(crate) fn wgsl_u32(m: &naga::Module, name: &str) -> u32 {
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
            ::std::mem::size_of::<$t>(),
            vec![$((stringify!($f).to_string(), ::std::mem::offset_of!($t, $f))),*],
        )
    };
}
pub(crate) use rust_layout;

/// Asserts that struct `name` of the WGSL `src` has the layout `rust` (see [`rust_layout!`]).
pub(crate) fn check(src: &str, name: &str, rust: (usize, Vec<(String, usize)>)) {
    let wgsl = wgsl_layout(&module(src), name);
    assert_eq!(
        wgsl.1, rust.1,
        "{name}: fields and offsets (WGSL left, Rust right)"
    );
    assert_eq!(wgsl.0, rust.0, "{name}: size (WGSL left, Rust right)");
}
