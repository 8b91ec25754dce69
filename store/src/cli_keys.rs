//! `llm-store key add|revoke|list`: runtime keys for fleet mode, written straight to
//! Redis (whoever holds Redis's credentials manages keys; the key itself is never stored,
//! only its SHA-256).
//!
//! llm-store key add --name NAME (--key KEY | --sha256 HEX) [--models a,b] [--rpm N]
//!                   [--tpm N] [--budget-usd X --budget-period day|month] [--redis URL]
//! llm-store key revoke (--key KEY | --sha256 HEX) [--redis URL]
//! llm-store key list [--redis URL]

use fleet_proto::KeyRecord;
use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use crate::keys;

#[derive(Default)]
struct Flags {
    redis: Option<String>,
    prefix: Option<String>,
    name: Option<String>,
    key: Option<String>,
    sha256: Option<String>,
    models: Option<String>,
    rpm: Option<u64>,
    tpm: Option<u64>,
    budget_usd: Option<f64>,
    budget_period: Option<String>,
}

fn flags(mut it: impl Iterator<Item = String>) -> Result<Flags, String> {
    let mut f = Flags::default();
    while let Some(flag) = it.next() {
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag} needs a number"))
        };
        match flag.as_str() {
            "--redis" => f.redis = Some(v),
            "--prefix" => f.prefix = Some(v),
            "--name" => f.name = Some(v),
            "--key" => f.key = Some(v),
            "--sha256" => f.sha256 = Some(v.to_ascii_lowercase()),
            "--models" => f.models = Some(v),
            "--rpm" => f.rpm = Some(num(&v)?),
            "--tpm" => f.tpm = Some(num(&v)?),
            "--budget-usd" => {
                f.budget_usd = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x >= 0.0)
                        .ok_or("--budget-usd needs a number ≥ 0")?,
                )
            }
            "--budget-period" if v == "day" || v == "month" => f.budget_period = Some(v),
            "--budget-period" => return Err("--budget-period is day or month".into()),
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(f)
}

fn sha256(f: &Flags) -> Result<String, String> {
    let hex = match (&f.key, &f.sha256) {
        (Some(k), None) => Sha256::digest(k.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        (None, Some(h)) => h.clone(),
        _ => return Err("give --key or --sha256 (one of them)".into()),
    };
    if keys::is_sha256_hex(&hex) {
        Ok(hex)
    } else {
        Err("--sha256 must be 64 hex digits".into())
    }
}

pub async fn run(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let cmd = args.next().unwrap_or_default();
    let f = flags(args)?;
    let url = f
        .redis
        .clone()
        .unwrap_or_else(|| "redis://127.0.0.1:6379/".into());
    let prefix = f.prefix.clone().unwrap_or_else(|| "{llmgw}:".into());
    let client = redis::Client::open(url.as_str()).map_err(|e| e.to_string())?;
    let mut con = ConnectionManager::new(client)
        .await
        .map_err(|e| format!("redis: {e}"))?;
    match cmd.as_str() {
        "add" => {
            let name = f
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .ok_or("--name is required")?;
            if f.budget_usd.is_some() != f.budget_period.is_some() {
                return Err("--budget-usd and --budget-period go together".into());
            }
            let record = KeyRecord {
                name: name.clone(),
                models: f
                    .models
                    .as_deref()
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
                rpm: f.rpm,
                tpm: f.tpm,
                budget_nano_usd: f.budget_usd.map(|u| (u * 1e9).round() as u64),
                budget_period: f.budget_period.clone(),
            };
            keys::add(&mut con, &prefix, &sha256(&f)?, &record)
                .await
                .map_err(|e| format!("redis: {e}"))?;
            Ok(format!("added key {name}"))
        }
        "revoke" => match keys::revoke(&mut con, &prefix, &sha256(&f)?).await {
            Ok(true) => Ok("revoked".into()),
            Ok(false) => Err("no such key".into()),
            Err(e) => Err(format!("redis: {e}")),
        },
        "list" => {
            let all = keys::list(&mut con, &prefix)
                .await
                .map_err(|e| format!("redis: {e}"))?;
            Ok(all
                .into_iter()
                .map(|(sha, name, revoked)| {
                    format!("{sha} {name}{}", if revoked { " (revoked)" } else { "" })
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        _ => Err("usage: llm-store key add|revoke|list [flags] (see --help in README)".into()),
    }
}
