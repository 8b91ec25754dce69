//! Budget periods (UTC day, UTC month) as small integers, from milliseconds.

use crate::config::access::Period;

const DAY_MS: u64 = 86_400_000;

pub fn day(now_ms: u64) -> u64 {
    now_ms / DAY_MS
}

/// Months since 1970-01 (UTC), by the civil-from-days algorithm (Howard Hinnant's).
pub fn month(now_ms: u64) -> u64 {
    let (y, m, _) = civil(day(now_ms) as i64);
    ((y - 1970) * 12 + (m as i64 - 1)).max(0) as u64
}

/// The UTC day as ISO 8601, `YYYY-MM-DD`.
pub fn iso_day(now_ms: u64) -> String {
    let (y, m, d) = civil(day(now_ms) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The UTC month as ISO 8601, `YYYY-MM`.
pub fn iso_month(now_ms: u64) -> String {
    let (y, m, _) = civil(day(now_ms) as i64);
    format!("{y:04}-{m:02}")
}

pub fn id(period: Period, now_ms: u64) -> u64 {
    match period {
        Period::Day => day(now_ms),
        Period::Month => month(now_ms),
    }
}

/// Seconds until the current period ends (for `retry-after`).
pub fn seconds_left(period: Period, now_ms: u64) -> u64 {
    let end_ms = match period {
        Period::Day => (day(now_ms) + 1) * DAY_MS,
        Period::Month => {
            let (y, m, _) = civil(day(now_ms) as i64);
            let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            days_from_civil(y, m).max(0) as u64 * DAY_MS
        }
    };
    end_ms.saturating_sub(now_ms).div_ceil(1000)
}

/// (year, month) → days since 1970-01-01 of the month's first day.
fn days_from_civil(y: i64, m: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), Howard Hinnant's algorithm (also
/// SigV4's date).
pub(crate) fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(31), (1970, 2, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29)); // leap day
        assert_eq!(month(0), 0);
        assert_eq!(days_from_civil(2024, 3), 19_783);
        assert_eq!(days_from_civil(1970, 1), 0);
        // one second before February 1970 ends... of January: 31 days minus 1 s
        assert_eq!(seconds_left(Period::Month, 0), 31 * 86_400);
        assert_eq!(seconds_left(Period::Day, 1_000), 86_399);
        assert_eq!(iso_day(1_795_262_400_000), "2026-11-21");
        assert_eq!(iso_month(1_795_262_400_000), "2026-11");
        assert_eq!(iso_day(0), "1970-01-01");
        // 2026-11-21T12:00Z
        assert_eq!(month(1_795_262_400_000), (2026 - 1970) * 12 + 10);
    }
}
