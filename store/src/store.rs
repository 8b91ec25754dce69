//! The three operations over Redis, from the filter's wire types.

use fleet_proto::{
    rate_key, spend_key, AdmitAnswer, AdmitRequest, BudgetCheck, Counts, RateCheck, Reason,
    Refused, Report, Spend, SpendAnswer, SpendRequest,
};
use redis::aio::ConnectionManager;
use redis::Script;

use crate::scripts;

/// A rate window outlives its minute by one more, then Redis drops it.
const WINDOW_TTL_MS: u64 = 120_000;
/// A report id is remembered a day: a worker re-sends a failed report within seconds.
const REPORT_ID_TTL_S: u64 = 86_400;
/// Day rows are kept 40 days, month rows 400 (the ledger's history).
const DAY_TTL_S: u64 = 40 * 86_400;
const MONTH_TTL_S: u64 = 400 * 86_400;
/// Bounds on one call (a request checks a handful; a report is one worker's interval).
const MAX_CHECKS: usize = 64;
const MAX_REPORT_ROWS: usize = 50_000;

#[derive(Debug)]
pub enum Error {
    /// The request is not one the filter sends.
    Invalid(String),
    Redis(redis::RedisError),
}

impl From<redis::RedisError> for Error {
    fn from(e: redis::RedisError) -> Error {
        Error::Redis(e)
    }
}

pub struct Store {
    pub prefix: String,
    admit: Script,
    report: Script,
}

/// Only the gateway's own key shapes reach Redis, whatever calls the adapter.
fn check_key(key: &str, allowed: &[&str]) -> Result<(), Error> {
    if allowed.iter().any(|p| key.starts_with(p)) && key.len() <= 1024 {
        Ok(())
    } else {
        Err(Error::Invalid(format!("key {key:?} is not a gateway key")))
    }
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Field `i` of an HMGET row (absent or negative: 0).
fn field(row: &[Option<i64>], i: usize) -> u64 {
    u(row.get(i).copied().flatten().unwrap_or(0))
}

impl Store {
    pub fn new(prefix: String) -> Store {
        Store {
            prefix,
            admit: Script::new(scripts::ADMIT),
            report: Script::new(scripts::REPORT),
        }
    }

    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }

    /// A request with a runtime key: its record first (unknown, revoked or the model not
    /// allowed: refused), then its own window and budget join the request's checks.
    pub async fn admit(
        &self,
        con: &mut ConnectionManager,
        req: &AdmitRequest,
    ) -> Result<AdmitAnswer, Error> {
        let Some(rk) = &req.runtime_key else {
            return self.reserve(con, req).await;
        };
        let refused = |reason| AdmitAnswer {
            admitted: false,
            rates: Vec::new(),
            refused: Some(Refused { index: 0, reason }),
            key: None,
        };
        let Some(record) = crate::keys::read(con, &self.prefix, &rk.sha256).await? else {
            return Ok(refused(Reason::Unauthorized));
        };
        if !record.models.is_empty() && !record.models.contains(&rk.model) {
            return Ok(refused(Reason::Model));
        }
        let mut with_key = req.clone();
        if record.rpm.is_some() || record.tpm.is_some() {
            with_key.rates.insert(
                0,
                RateCheck {
                    key: rate_key(rk.window, "key", &record.name),
                    rpm: record.rpm,
                    tpm: record.tpm,
                    tokens: rk.tokens,
                },
            );
        }
        if let Some(limit) = record.budget_nano_usd {
            let (period, date) = match record.budget_period.as_deref() {
                Some("month") => ("month", rk.month.as_str()),
                _ => ("day", rk.day.as_str()),
            };
            with_key.budgets.push(BudgetCheck {
                key: spend_key(period, date, "key", &record.name),
                limit_nano_usd: limit,
            });
        }
        let mut answer = self.reserve(con, &with_key).await?;
        answer.key = Some(record);
        Ok(answer)
    }

    async fn reserve(
        &self,
        con: &mut ConnectionManager,
        req: &AdmitRequest,
    ) -> Result<AdmitAnswer, Error> {
        if req.rates.len() + req.budgets.len() > MAX_CHECKS {
            return Err(Error::Invalid("too many checks".into()));
        }
        let mut inv = self.admit.prepare_invoke();
        inv.arg(req.rates.len());
        for r in &req.rates {
            check_key(&r.key, &["rate:"])?;
            inv.key(self.key(&r.key));
            inv.arg(r.rpm.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX)));
            inv.arg(r.tpm.map_or(-1, |v| i64::try_from(v).unwrap_or(i64::MAX)));
            inv.arg(r.tokens);
        }
        for b in &req.budgets {
            check_key(&b.key, &["spend:"])?;
            inv.key(self.key(&b.key));
            inv.arg(b.limit_nano_usd);
        }
        inv.arg(WINDOW_TTL_MS);
        let (admitted, index, reason, flat): (i64, i64, String, Vec<i64>) =
            inv.invoke_async(con).await?;
        let rates = flat
            .chunks(2)
            .map(|c| Counts {
                requests: u(c.first().copied().unwrap_or(0)),
                tokens: u(c.get(1).copied().unwrap_or(0)),
            })
            .collect();
        let refused = match reason.as_str() {
            "rpm" => Some(Reason::Rpm),
            "tpm" => Some(Reason::Tpm),
            "budget" => Some(Reason::Budget),
            _ => None,
        }
        .map(|reason| Refused {
            index: usize::try_from(index).unwrap_or(0),
            reason,
        });
        Ok(AdmitAnswer {
            admitted: admitted == 1,
            rates,
            refused,
            key: None,
        })
    }

    /// True if applied now, false if this report id was applied before.
    pub async fn report(&self, con: &mut ConnectionManager, r: &Report) -> Result<bool, Error> {
        if r.rates.len() + r.spend.len() > MAX_REPORT_ROWS || r.id.is_empty() || r.id.len() > 128 {
            return Err(Error::Invalid("report id or size out of bounds".into()));
        }
        let mut inv = self.report.prepare_invoke();
        inv.key(self.key(&format!("report:{}", r.id)));
        inv.arg(r.rates.len()).arg(REPORT_ID_TTL_S);
        for d in &r.rates {
            check_key(&d.key, &["rate:"])?;
            inv.key(self.key(&d.key));
            inv.arg(d.requests).arg(d.tokens);
        }
        for s in &r.spend {
            check_key(&s.key, &["spend:day:", "spend:month:"])?;
            inv.key(self.key(&s.key));
            let t = &s.totals;
            inv.arg(t.requests)
                .arg(t.prompt_tokens)
                .arg(t.completion_tokens)
                .arg(t.cost_nano_usd)
                .arg(t.errors);
            inv.arg(if s.key.starts_with("spend:day:") {
                DAY_TTL_S
            } else {
                MONTH_TTL_S
            });
        }
        let applied: i64 = inv.invoke_async(con).await?;
        Ok(applied == 1)
    }

    pub async fn spend(
        &self,
        con: &mut ConnectionManager,
        req: &SpendRequest,
    ) -> Result<SpendAnswer, Error> {
        if req.keys.len().saturating_add(req.rates.len()) > MAX_REPORT_ROWS {
            return Err(Error::Invalid("too many keys".into()));
        }
        let mut pipe = redis::pipe();
        for k in &req.keys {
            check_key(k, &["spend:"])?;
            pipe.cmd("HMGET")
                .arg(self.key(k))
                .arg("requests")
                .arg("prompt_tokens")
                .arg("completion_tokens")
                .arg("cost_nano_usd")
                .arg("errors");
        }
        for k in &req.rates {
            check_key(k, &["rate:"])?;
            pipe.cmd("HMGET")
                .arg(self.key(k))
                .arg("requests")
                .arg("tokens");
        }
        // Signed: a window's reconciliation may take it below zero for a moment.
        let mut rows: Vec<Vec<Option<i64>>> = if req.keys.is_empty() && req.rates.is_empty() {
            Vec::new()
        } else {
            pipe.query_async(con).await?
        };
        let rates = rows
            .split_off(req.keys.len().min(rows.len()))
            .into_iter()
            .map(|r| {
                let f = |i: usize| field(&r, i);
                Counts {
                    requests: f(0),
                    tokens: f(1),
                }
            })
            .collect();
        let spend = rows
            .into_iter()
            .map(|r| {
                let f = |i: usize| field(&r, i);
                Spend {
                    requests: f(0),
                    prompt_tokens: f(1),
                    completion_tokens: f(2),
                    cost_nano_usd: f(3),
                    errors: f(4),
                }
            })
            .collect();
        Ok(SpendAnswer { spend, rates })
    }
}
