//! The GenAI histograms: names, units and bucket boundaries as the OpenTelemetry
//! semantic conventions give them (`gen_ai-metrics.md`). Values are kept as integers
//! in micro-units (microseconds, or tokens for token counts) so that sums stay exact.

/// One histogram instrument.
#[derive(Debug)]
pub struct Instrument {
    /// Prometheus name (the OpenTelemetry name with dots as underscores and the unit
    /// as a suffix, as OpenTelemetry's Prometheus exporters spell it).
    pub name: &'static str,
    pub help: &'static str,
    /// Micro-units per unit: 1_000_000 for seconds, 1 for tokens.
    pub scale: u64,
    /// Upper bounds in micro-units, ascending.
    pub bounds: &'static [u64],
    /// `gen_ai_token_type` of this slot (the two token histograms are one metric).
    pub token_type: Option<&'static str>,
}

const SECONDS: u64 = 1_000_000;

/// `gen_ai.client.operation.duration`'s advised boundaries (seconds).
const DURATION_BOUNDS: &[u64] = &[
    10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 5_120_000,
    10_240_000, 20_480_000, 40_960_000, 81_920_000,
];
/// `gen_ai.client.operation.time_to_first_chunk`'s advised boundaries (seconds).
const FIRST_CHUNK_BOUNDS: &[u64] = &[
    1_000, 5_000, 10_000, 20_000, 40_000, 60_000, 80_000, 100_000, 250_000, 500_000, 750_000,
    1_000_000, 2_500_000, 5_000_000, 7_500_000, 10_000_000,
];
/// `gen_ai.client.token.usage`'s advised boundaries (tokens).
const TOKEN_BOUNDS: &[u64] = &[
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216,
    67_108_864,
];
/// `gen_ai.client.operation.time_per_output_chunk`'s advised boundaries (seconds), also
/// used per output token.
pub const PER_CHUNK_BOUNDS: &[u64] = &[
    10_000, 25_000, 50_000, 75_000, 100_000, 150_000, 200_000, 300_000, 400_000, 500_000, 750_000,
    1_000_000, 2_500_000,
];

pub const DURATION: usize = 0;
pub const FIRST_CHUNK: usize = 1;
pub const INPUT_TOKENS: usize = 2;
pub const OUTPUT_TOKENS: usize = 3;
pub const PER_OUTPUT_TOKEN: usize = 4;
pub const PER_CHUNK: usize = 5;

pub const INSTRUMENTS: [Instrument; 6] = [
    Instrument {
        name: "gen_ai_client_operation_duration_seconds",
        help: "GenAI operation duration: from the client's request to the answer's last byte.",
        scale: SECONDS,
        bounds: DURATION_BOUNDS,
        token_type: None,
    },
    Instrument {
        name: "gen_ai_client_operation_time_to_first_chunk_seconds",
        help: "Time to the first chunk of a streamed answer, from the client's request.",
        scale: SECONDS,
        bounds: FIRST_CHUNK_BOUNDS,
        token_type: None,
    },
    Instrument {
        name: "gen_ai_client_token_usage",
        help: "Number of input and output tokens used per successful operation.",
        scale: 1,
        bounds: TOKEN_BOUNDS,
        token_type: Some("input"),
    },
    Instrument {
        name: "gen_ai_client_token_usage",
        help: "Number of input and output tokens used per successful operation.",
        scale: 1,
        bounds: TOKEN_BOUNDS,
        token_type: Some("output"),
    },
    Instrument {
        name: "llmgw_time_per_output_token_seconds",
        help: "Streamed answers: time from the first chunk to the end, per output token.",
        scale: SECONDS,
        bounds: PER_CHUNK_BOUNDS,
        token_type: None,
    },
    Instrument {
        name: "gen_ai_client_operation_time_per_output_chunk_seconds",
        help: "Streamed answers: time between consecutive output chunks, after the first.",
        scale: SECONDS,
        bounds: PER_CHUNK_BOUNDS,
        token_type: None,
    },
];

/// Fields of the first `n` instruments in a record (each: a count per bucket, +Inf
/// last, then the sum).
const fn fields(n: usize) -> usize {
    let mut at = 0;
    let mut k = 0;
    let mut rest: &[Instrument] = &INSTRUMENTS;
    while let [first, tail @ ..] = rest {
        if k == n {
            break;
        }
        at += first.bounds.len() + 2;
        k += 1;
        rest = tail;
    }
    at
}

fn offset(i: usize) -> usize {
    fields(i)
}

/// Fields of a whole record (every instrument of one label set).
pub const WIDTH: usize = fields(INSTRUMENTS.len());

/// One label set's histograms, as stored and summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record(pub [u64; WIDTH]);

impl Default for Record {
    fn default() -> Self {
        Record([0; WIDTH])
    }
}

impl Record {
    /// One observation of `value` (micro-units) in instrument `i`.
    pub fn observe(&mut self, i: usize, value: u64) {
        let Some(inst) = INSTRUMENTS.get(i) else {
            return;
        };
        let bucket = inst
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(inst.bounds.len());
        let at = offset(i);
        if let Some(c) = self.0.get_mut(at + bucket) {
            *c = c.saturating_add(1);
        }
        if let Some(sum) = self.0.get_mut(at + inst.bounds.len() + 1) {
            *sum = sum.saturating_add(value);
        }
    }

    /// Observations already counted per bucket (`counts`, +Inf last) with their `sum`,
    /// into instrument `i`.
    pub fn add_counts(&mut self, i: usize, counts: &[u64], sum: u64) {
        let Some(inst) = INSTRUMENTS.get(i) else {
            return;
        };
        let at = offset(i);
        let n = inst.bounds.len() + 1;
        if let Some(mine) = self.0.get_mut(at..at + n) {
            for (c, d) in mine.iter_mut().zip(counts) {
                *c = c.saturating_add(*d);
            }
        }
        if let Some(s) = self.0.get_mut(at + n) {
            *s = s.saturating_add(sum);
        }
    }

    pub fn add(&mut self, other: &Record) {
        for (c, d) in self.0.iter_mut().zip(other.0.iter()) {
            *c = c.saturating_add(*d);
        }
    }

    /// Instrument `i`'s bucket counts (not cumulative, +Inf last) and sum.
    pub fn instrument(&self, i: usize) -> (&[u64], u64) {
        let Some(inst) = INSTRUMENTS.get(i) else {
            return (&[], 0);
        };
        let at = offset(i);
        let n = inst.bounds.len() + 1;
        let buckets = self.0.get(at..at + n).unwrap_or(&[]);
        let sum = self.0.get(at + n).copied().unwrap_or(0);
        (buckets, sum)
    }
}

/// `micros / scale` as a decimal without float formatting (`0.25`, `1`, `81.92`).
pub fn decimal(out: &mut String, micros: u64, scale: u64) {
    use crate::strs::push_u64;
    let scale = scale.max(1);
    push_u64(out, micros / scale);
    let mut frac = micros % scale;
    if frac == 0 {
        return;
    }
    out.push('.');
    let mut unit = scale / 10;
    while frac > 0 && unit > 0 {
        let digit = frac / unit;
        out.push(char::from(b'0' + (digit % 10) as u8));
        frac %= unit;
        unit /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_their_bucket_and_the_sum() {
        let mut r = Record::default();
        r.observe(DURATION, 10_000); // on the first bound: first bucket
        r.observe(DURATION, 10_001);
        r.observe(DURATION, 100_000_000); // above every bound: +Inf
        let (buckets, sum) = r.instrument(DURATION);
        assert_eq!(buckets.len(), DURATION_BOUNDS.len() + 1);
        assert_eq!((buckets[0], buckets[1], buckets[14]), (1, 1, 1));
        assert_eq!(buckets.iter().sum::<u64>(), 3);
        assert_eq!(sum, 100_020_001);
        // other instruments untouched
        assert_eq!(r.instrument(OUTPUT_TOKENS).1, 0);
        r.observe(OUTPUT_TOKENS, 5);
        assert_eq!(r.instrument(OUTPUT_TOKENS).0[2], 1);
        assert_eq!(r.instrument(DURATION).1, 100_020_001);
    }

    #[test]
    fn records_add() {
        let mut a = Record::default();
        a.observe(INPUT_TOKENS, 3);
        let mut b = Record::default();
        b.observe(INPUT_TOKENS, 3);
        b.add(&a);
        assert_eq!(
            b.instrument(INPUT_TOKENS),
            (&[0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], 6)
        );
    }

    #[test]
    fn decimals_are_exact() {
        let d = |m, s| {
            let mut out = String::new();
            decimal(&mut out, m, s);
            out
        };
        assert_eq!(d(10_000, SECONDS), "0.01");
        assert_eq!(d(81_920_000, SECONDS), "81.92");
        assert_eq!(d(1_000_000, SECONDS), "1");
        assert_eq!(d(1, SECONDS), "0.000001");
        assert_eq!(d(67_108_864, 1), "67108864");
    }
}
