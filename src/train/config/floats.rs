//! TOML text with f32 settings in their shortest form: a float that is exactly an `f32`
//! (e.g. an IoU threshold of 0.4, stored as 0.4000000059604645 in f64) is written as the
//! shortest decimal that reads back to the same `f32` ("0.4"); other floats are untouched.

use serde::Serialize;

/// `value` as TOML text, f32 values in their shortest form.
pub fn toml_text<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let mut v = toml::Value::try_from(value).map_err(|e| format!("config to TOML: {e}"))?;
    shorten(&mut v);
    toml::to_string(&v).map_err(|e| format!("config to TOML: {e}"))
}

fn shorten(v: &mut toml::Value) {
    match v {
        toml::Value::Float(f) => *f = shortest(*f),
        toml::Value::Array(a) => a.iter_mut().for_each(shorten),
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, x)| shorten(x)),
        _ => {}
    }
}

/// The shortest decimal of `f` as an `f32` when `f` is exactly an `f32`, else `f`.
fn shortest(f: f64) -> f64 {
    let s = f as f32;
    if f.is_finite() && s as f64 == f {
        s.to_string().parse().unwrap_or(f)
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f32_settings_print_short_and_f64_ones_unchanged() {
        #[derive(Serialize)]
        struct S {
            thr: f32,
            lr: f64,
            list: Vec<f32>,
        }
        let t = toml_text(&S {
            thr: 0.4,
            lr: 0.1,
            list: vec![0.5, 1.0 / 3.0],
        })
        .unwrap();
        assert!(t.contains("thr = 0.4\n"), "{t}");
        assert!(t.contains("lr = 0.1\n"), "{t}");
        assert!(t.contains("0.33333334"), "{t}");
        assert!(!t.contains("0.4000000059604645"), "{t}");
        // and it reads back to the same f32
        let back: toml::Value = toml::from_str(&t).unwrap();
        assert_eq!(back["thr"].as_float().unwrap() as f32, 0.4f32);
    }
}
