//! Test support shared by the parsers' fuzz tests.

use proptest::prelude::*;

/// Mutations of the valid file `valid`: one to five edits, each an insertion of one of
/// `tokens`, a cut of the rest, a byte overwritten or eight bytes removed.
pub(crate) fn mutated(
    valid: &'static str,
    tokens: Vec<&'static str>,
) -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(tokens);
    (prop::collection::vec((0usize..valid.len(), 0usize..4, tokens, any::<u8>()), 1..6)).prop_map(
        move |ops| {
            let mut b = valid.as_bytes().to_vec();
            for (pos, kind, tok, byte) in ops {
                let p = pos.min(b.len());
                match kind {
                    0 => b.splice(p..p, tok.bytes()).for_each(drop),
                    1 => b.truncate(p),
                    2 if p < b.len() => b[p] = byte,
                    _ => {
                        let e = (p + 8).min(b.len());
                        b.drain(p..e);
                    }
                }
            }
            String::from_utf8_lossy(&b).into_owned()
        },
    )
}
