//! GenAI histograms per label set: added up per worker in memory on the request path
//! (no host call), written to shared data on the root's tick so that every worker's
//! observations sum up, and read back for the exposition.
//!
//! Shared data has no listing, so the label sets are kept in one index value
//! (`INDEX`, one line per set) next to one value per set (`DATA_PREFIX` + line).

use rustc_hash::FxHashMap;

use super::histogram::{Record, WIDTH};
use crate::host::Host;
use crate::state::{cas, words};
use crate::usage::metrics::{label, Labels};

pub const INDEX: &str = "llmgw:telemetry:series";
/// The shared-data key of a series' record: this prefix and its index line.
const DATA_PREFIX: &str = "llmgw:telemetry:h:";

pub fn data_key(line: &str) -> String {
    crate::strs::concat(&[DATA_PREFIX, line])
}
/// Label sets kept; beyond this new ones are dropped (with a warning) rather than
/// letting client-chosen `provider/model` names grow shared memory without bound.
pub const MAX_SERIES: usize = 2048;
/// Separates the values in an index line (never in a value: `label` removes control
/// characters).
const SEP: char = '\u{1f}';

/// The labels of one series: a request's labels but the key (too many series), and the
/// error type (empty for a success).
#[derive(Debug, Clone, Copy)]
pub struct SeriesLabels<'a> {
    pub of: &'a Labels<'a>,
    pub error_type: &'a str,
}

/// Prometheus label names, in index-line order.
pub const LABEL_NAMES: [&str; 6] = [
    "gen_ai_operation_name",
    "gen_ai_provider_name",
    "llm_provider",
    "gen_ai_request_model",
    "gen_ai_response_model",
    "error_type",
];

impl SeriesLabels<'_> {
    fn line(&self) -> String {
        let l = self.of;
        let parts = [
            l.operation,
            l.provider,
            l.llm_provider,
            l.request_model,
            l.response_model,
            self.error_type,
        ];
        let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                s.push(SEP);
            }
            // An empty error type stays empty (no label); other values as Prometheus
            // will show them.
            if !p.is_empty() {
                s.push_str(&label(p));
            }
        }
        s
    }
}

/// A stored line back into its values (`LABEL_NAMES` order).
pub fn values(line: &str) -> impl Iterator<Item = &str> {
    line.split(SEP)
}

/// What one worker observed since its last flush.
#[derive(Default)]
pub struct Pending {
    rows: FxHashMap<String, Record>,
}

impl Pending {
    /// `f` records this request's observations into its label set's record.
    pub fn observe(&mut self, labels: &SeriesLabels<'_>, f: impl FnOnce(&mut Record)) {
        let line = labels.line();
        match self.rows.get_mut(&line) {
            Some(r) => f(r),
            None => {
                let mut r = Record::default();
                f(&mut r);
                self.rows.insert(line, r);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Add everything into shared data (once per tick).
    pub fn write(self, host: &mut dyn Host) {
        if self.rows.is_empty() {
            return;
        }
        let known: Vec<String> = read_index(host);
        let new: Vec<&str> = self
            .rows
            .keys()
            .filter(|l| !known.iter().any(|k| k == *l))
            .map(String::as_str)
            .collect();
        let mut indexed = known;
        if !new.is_empty() {
            if !add_to_index(host, &new) {
                log::warn!("llm-gateway: GenAI histogram series dropped (index full or lost)");
            }
            indexed = read_index(host);
        }
        // Only indexed series are ever read: the others are not stored at all.
        for (line, rec) in self.rows.iter().filter(|(l, _)| indexed.contains(l)) {
            let key = data_key(line);
            let ok = cas::update(host, &key, cas::COUNTS, |v| {
                let mut current = Record(v.map(words::decode::<WIDTH>).unwrap_or([0; WIDTH]));
                current.add(rec);
                Some(words::encode(&current.0))
            });
            if !ok {
                log::warn!(
                    "llm-gateway: a GenAI histogram update was lost (shared data refused it)"
                );
            }
        }
    }
}

fn read_index(host: &dyn Host) -> Vec<String> {
    host.shared_get(INDEX)
        .0
        .map(|v| {
            String::from_utf8_lossy(&v)
                .lines()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Appends the lines another worker did not add meanwhile; false if the index is full.
fn add_to_index(host: &mut dyn Host, new: &[&str]) -> bool {
    let mut full = false;
    let written = cas::update(host, INDEX, cas::COUNTS, |v| {
        let mut text = v
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let mut count = text.lines().count();
        let before = text.len();
        for line in new {
            if text.lines().any(|l| l == *line) {
                continue;
            }
            if count >= MAX_SERIES {
                full = true;
                break;
            }
            text.push_str(line);
            text.push('\n');
            count += 1;
        }
        (text.len() != before).then_some(text)
    });
    written && !full
}

/// Every stored series: its index line and its summed record.
pub fn read_all(host: &dyn Host) -> Vec<(String, Record)> {
    read_index(host)
        .into_iter()
        .filter_map(|line| {
            let v = host.shared_get(&data_key(&line)).0?;
            Some((line, Record(words::decode::<WIDTH>(&v))))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::FakeHost;
    use crate::telemetry::histogram::{DURATION, INPUT_TOKENS};

    fn observe(p: &mut Pending, model: &str, f: impl FnOnce(&mut Record)) {
        let l = Labels {
            operation: "chat",
            provider: "openai",
            llm_provider: "oa",
            request_model: model,
            response_model: "gpt-4.1-2025-04-14",
            key: "k",
        };
        p.observe(
            &SeriesLabels {
                of: &l,
                error_type: "",
            },
            f,
        );
    }

    #[test]
    fn workers_sum_into_shared_data() {
        let mut h = FakeHost::default();
        for _ in 0..2 {
            let mut p = Pending::default();
            observe(&mut p, "gpt-4.1", |r| r.observe(DURATION, 250_000));
            observe(&mut p, "gpt-4.1", |r| r.observe(INPUT_TOKENS, 7));
            observe(&mut p, "other", |r| r.observe(DURATION, 1));
            p.write(&mut h);
        }
        let all = read_all(&h);
        assert_eq!(all.len(), 2);
        let (line, rec) = all
            .iter()
            .find(|(l, _)| l.contains("gpt-4.1\u{1f}"))
            .unwrap();
        assert_eq!(
            values(line).collect::<Vec<_>>(),
            ["chat", "openai", "oa", "gpt-4.1", "gpt-4.1-2025-04-14", ""]
        );
        assert_eq!(rec.instrument(DURATION).1, 500_000);
        assert_eq!(rec.instrument(INPUT_TOKENS).1, 14);
    }

    #[test]
    fn the_index_is_bounded() {
        let mut h = FakeHost::default();
        let names: Vec<String> = (0..MAX_SERIES + 3).map(|i| format!("m{i}")).collect();
        let mut p = Pending::default();
        for n in &names {
            observe(&mut p, n, |r| r.observe(DURATION, 1));
        }
        p.write(&mut h);
        assert_eq!(read_all(&h).len(), MAX_SERIES);
    }
}
