//! `anchorscope loss --input FILE|-`: named losses and their gradients, JSON in, JSON out.
//!
//! In: `{"cases":[{"loss":"focal","params":{..},"logits":[..],"targets":[..]},
//! {"loss":"giou","params":{},"pred":[[x1,y1,x2,y2],..],"target":[[..],..]}]}`.
//! Out: `{"cases":[{"loss":"focal","values":[..],"grad":[..]},..]}` on stdout.

use crate::losses::classification::{CLS_LOSS_NAMES, ClsLoss};
use crate::losses::regression::{REG_LOSS_NAMES, RegLoss};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::io::Read;

/// Arguments of `anchorscope loss`.
#[derive(clap::Args, Debug)]
pub struct LossArgs {
    /// JSON file with the cases, or `-` for standard input.
    #[arg(long)]
    pub input: String,
}

/// Reads the input, evaluates every case and prints the result.
pub fn run(args: &LossArgs) -> Result<()> {
    let (name, text) = read_input(&args.input)?;
    let doc: Value =
        serde_json::from_str(&text).with_context(|| format!("{name}: invalid JSON"))?;
    let out = evaluate(&doc).map_err(|e| anyhow!("{name}: {e}"))?;
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn read_input(path: &str) -> Result<(String, String)> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("<stdin>: cannot read")?;
        Ok(("<stdin>".into(), s))
    } else {
        let s = std::fs::read_to_string(path).with_context(|| format!("{path}: cannot read"))?;
        Ok((path.to_string(), s))
    }
}

/// Evaluates a whole `{"cases":[..]}` document; the error names the case.
pub fn evaluate(doc: &Value) -> Result<Value> {
    let cases = doc
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("expected an object with a \"cases\" array"))?;
    let mut out = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let loss = case.get("loss").and_then(Value::as_str).unwrap_or("?");
        let r = evaluate_case(case).map_err(|e| anyhow!("case {i} ({loss}): {e}"))?;
        out.push(r);
    }
    Ok(json!({ "cases": out }))
}

fn evaluate_case(case: &Value) -> Result<Value> {
    let obj = case
        .as_object()
        .ok_or_else(|| anyhow!("a case must be an object"))?;
    let name = obj
        .get("loss")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("missing string field \"loss\""))?;
    let empty = json!({});
    let params = obj.get("params").unwrap_or(&empty);
    if CLS_LOSS_NAMES.contains(&name) {
        for key in obj.keys() {
            if !["loss", "params", "logits", "targets"].contains(&key.as_str()) {
                bail!(
                    "unexpected field \"{key}\" (a classification case has loss, params, logits, targets)"
                );
            }
        }
        let loss = ClsLoss::from_json(name, params).map_err(|e| anyhow!(e))?;
        let logits = numbers(obj.get("logits"), "logits")?;
        let targets = numbers(obj.get("targets"), "targets")?;
        let r = loss.eval(&logits, &targets).map_err(|e| anyhow!(e))?;
        Ok(json!({ "loss": name, "values": r.values, "grad": r.grad }))
    } else if REG_LOSS_NAMES.contains(&name) {
        for key in obj.keys() {
            if !["loss", "params", "pred", "target"].contains(&key.as_str()) {
                bail!(
                    "unexpected field \"{key}\" (a regression case has loss, params, pred, target)"
                );
            }
        }
        let loss = RegLoss::from_json(name, params).map_err(|e| anyhow!(e))?;
        let pred = rows(obj.get("pred"), "pred")?;
        let target = rows(obj.get("target"), "target")?;
        let target: Vec<[f64; 4]> = target
            .iter()
            .enumerate()
            .map(|(k, r)| {
                <[f64; 4]>::try_from(r.as_slice())
                    .map_err(|_| anyhow!("target[{k}] must have 4 numbers, has {}", r.len()))
            })
            .collect::<Result<_>>()?;
        let r = loss.eval(&pred, &target).map_err(|e| anyhow!(e))?;
        Ok(json!({ "loss": name, "values": r.values, "grad": r.grad }))
    } else {
        bail!(
            "unknown loss \"{name}\"; known: {}, {}",
            CLS_LOSS_NAMES.join(", "),
            REG_LOSS_NAMES.join(", ")
        )
    }
}

fn numbers(v: Option<&Value>, field: &str) -> Result<Vec<f64>> {
    let arr = v
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("missing array field \"{field}\""))?;
    arr.iter()
        .enumerate()
        .map(|(k, x)| {
            x.as_f64()
                .ok_or_else(|| anyhow!("{field}[{k}] is not a number"))
        })
        .collect()
}

fn rows(v: Option<&Value>, field: &str) -> Result<Vec<Vec<f64>>> {
    let arr = v
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("missing array field \"{field}\""))?;
    arr.iter()
        .enumerate()
        .map(|(k, row)| numbers(Some(row), &format!("{field}[{k}]")))
        .collect()
}
