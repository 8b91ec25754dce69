//! Prices in USD per million tokens, by upstream model (`provider/model` or `model`).

use rustc_hash::FxHashMap;

use serde::Deserialize;

use super::error::{err, ConfigError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub model: String,
    pub input: f64,
    pub output: f64,
    #[serde(default)]
    pub cached_input: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    pub cached_input: f64,
}

/// Field paths are relative to the entry (`input`).
impl TryFrom<&RawPrice> for Price {
    type Error = ConfigError;

    fn try_from(p: &RawPrice) -> Result<Self, ConfigError> {
        let cached = p.cached_input.unwrap_or(p.input);
        for (name, v) in [
            ("input", p.input),
            ("output", p.output),
            ("cached_input", cached),
        ] {
            if !(v.is_finite() && (0.0..1e6).contains(&v)) {
                return err(name, "must be a price in USD per million tokens, 0 to 1e6");
            }
        }
        Ok(Price {
            input: p.input,
            output: p.output,
            cached_input: cached,
        })
    }
}

/// The `prices` section, by the model each entry names.
pub fn convert(raw: Vec<RawPrice>) -> Result<FxHashMap<String, Price>, ConfigError> {
    let mut out = FxHashMap::default();
    for (i, p) in raw.into_iter().enumerate() {
        let field = format!("prices[{i}]");
        let price = Price::try_from(&p).map_err(|e| e.within(&field))?;
        if out.insert(p.model.clone(), price).is_some() {
            return err(
                format!("{field}.model"),
                format!("duplicate price for {:?}", p.model),
            );
        }
    }
    Ok(out)
}

impl Price {
    /// Cost in nano-USD (1 USD per million tokens = 1000 nano-USD per token).
    pub fn cost_nano(&self, prompt: u64, cached: u64, completion: u64) -> u64 {
        let cached = cached.min(prompt);
        let nano = (prompt - cached) as f64 * self.input * 1000.0
            + cached as f64 * self.cached_input * 1000.0
            + completion as f64 * self.output * 1000.0;
        nano.round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost() {
        let p = Price {
            input: 2.5,
            output: 10.0,
            cached_input: 1.25,
        };
        // 1000 prompt (400 cached) + 100 completion
        // = 600*2.5e-6 + 400*1.25e-6 + 100*10e-6 USD = 0.0015+0.0005+0.001 = 0.003 USD
        assert_eq!(p.cost_nano(1000, 400, 100), 3_000_000);
    }
}
