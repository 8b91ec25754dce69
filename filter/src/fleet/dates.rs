//! ISO dates of the budget periods (UTC): the store's keys and `/v1/usage` name a day
//! as `YYYY-MM-DD` and a month as `YYYY-MM`, so every Envoy agrees whatever its uptime.

use crate::config::access::Period;
use crate::limits::period;

pub fn day(now_ms: u64) -> String {
    let (y, m, d) = period::civil(period::day(now_ms) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn month(now_ms: u64) -> String {
    let (y, m, _) = period::civil(period::day(now_ms) as i64);
    format!("{y:04}-{m:02}")
}

pub fn of(p: Period, now_ms: u64) -> String {
    match p {
        Period::Day => day(now_ms),
        Period::Month => month(now_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso() {
        // 2026-11-21T12:00Z
        assert_eq!(day(1_795_262_400_000), "2026-11-21");
        assert_eq!(month(1_795_262_400_000), "2026-11");
        assert_eq!(of(Period::Day, 0), "1970-01-01");
        assert_eq!(of(Period::Month, 0), "1970-01");
    }
}
