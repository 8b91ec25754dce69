//! Who may call: virtual keys (stored as SHA-256 hashes, never plaintext), mesh
//! identities (the peer principal Envoy sees, for Istio sidecars), teams and budgets.

use std::collections::HashMap;

use serde::Deserialize;

use super::error::{err, ConfigError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccess {
    #[serde(default)]
    pub keys: Vec<RawKey>,
    #[serde(default)]
    pub teams: Vec<RawTeam>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    pub name: String,
    /// Hex SHA-256 of the key the client sends as `Authorization: Bearer` or `x-api-key`.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Or: the peer principal (e.g. `spiffe://cluster.local/ns/a/sa/app`).
    #[serde(default)]
    pub principal: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// Client-facing model names this key may use; absent = all.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    #[serde(default)]
    pub rpm: Option<u64>,
    #[serde(default)]
    pub tpm: Option<u64>,
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default)]
    pub budget_period: Option<Period>,
    /// May read `GET /v1/usage`.
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTeam {
    pub name: String,
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default)]
    pub budget_period: Option<Period>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Month,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub nano_usd: u64,
    pub period: Period,
}

#[derive(Debug)]
pub struct Key {
    pub name: String,
    pub team: Option<usize>,
    pub models: Option<Vec<String>>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    pub budget: Option<Budget>,
    pub admin: bool,
}

#[derive(Debug)]
pub struct Team {
    pub name: String,
    pub budget: Option<Budget>,
}

#[derive(Debug, Default)]
pub struct Access {
    pub keys: Vec<Key>,
    pub teams: Vec<Team>,
    pub by_hash: HashMap<[u8; 32], usize>,
    pub by_principal: HashMap<String, usize>,
}

/// A team's or key's name: it ends up in shared-data keys, metrics and `/v1/usage`.
/// `taken`: another of the same list has it.
fn check_name(field: &str, name: &str, taken: bool, what: &str) -> Result<(), ConfigError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return err(
            format!("{field}.name"),
            "must be 1-64 characters of [A-Za-z0-9_-]",
        );
    }
    if taken {
        return err(
            format!("{field}.name"),
            format!("duplicate {what} {name:?}"),
        );
    }
    Ok(())
}

fn budget(
    field: &str,
    usd: Option<f64>,
    period: Option<Period>,
) -> Result<Option<Budget>, ConfigError> {
    match usd {
        None => Ok(None),
        Some(v) if !(v.is_finite() && (0.0..1e9).contains(&v)) => {
            err(format!("{field}.budget_usd"), "must be between 0 and 1e9")
        }
        Some(v) => Ok(Some(Budget {
            // 1 USD = 1e9 nano-USD; f64 → u64 saturates and the range was checked.
            nano_usd: (v * 1e9).round() as u64,
            period: period.unwrap_or(Period::Month),
        })),
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        let pair = s.get(i * 2..i * 2 + 2)?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// `models`: the client-facing model names keys may list.
pub fn convert(raw: RawAccess, models: &[String]) -> Result<Access, ConfigError> {
    let mut access = Access::default();
    for (i, t) in raw.teams.into_iter().enumerate() {
        let field = format!("access.teams[{i}]");
        let taken = access.teams.iter().any(|x| x.name == t.name);
        check_name(&field, &t.name, taken, "team")?;
        let budget = budget(&field, t.budget_usd, t.budget_period)?;
        access.teams.push(Team {
            name: t.name,
            budget,
        });
    }
    for (i, k) in raw.keys.into_iter().enumerate() {
        let field = format!("access.keys[{i}]");
        let taken = access.keys.iter().any(|x| x.name == k.name);
        check_name(&field, &k.name, taken, "key name")?;
        let index = access.keys.len();
        match (&k.sha256, &k.principal) {
            (Some(h), None) => {
                let Some(hash) = parse_hex32(&h.to_ascii_lowercase()) else {
                    return err(
                        format!("{field}.sha256"),
                        "must be 64 hex characters (sha256 of the key; never the key itself)",
                    );
                };
                if access.by_hash.insert(hash, index).is_some() {
                    return err(format!("{field}.sha256"), "the same key is listed twice");
                }
            }
            (None, Some(p)) if !p.is_empty() => {
                if access.by_principal.insert(p.clone(), index).is_some() {
                    return err(
                        format!("{field}.principal"),
                        "the same principal is listed twice",
                    );
                }
            }
            _ => return err(
                field,
                "exactly one of sha256 (a virtual key) or principal (a mesh identity) is required",
            ),
        }
        let team = match &k.team {
            None => None,
            Some(t) => match access.teams.iter().position(|x| &x.name == t) {
                Some(ti) => Some(ti),
                None => return err(format!("{field}.team"), format!("no team named {t:?}")),
            },
        };
        if let Some(list) = &k.models {
            for (j, m) in list.iter().enumerate() {
                if !models.contains(m) && !m.contains('/') {
                    return err(
                        format!("{field}.models[{j}]"),
                        format!("no model named {m:?} (list client-facing model names)"),
                    );
                }
            }
        }
        for (name, v) in [("rpm", k.rpm), ("tpm", k.tpm)] {
            if v == Some(0) {
                return err(
                    format!("{field}.{name}"),
                    "must be at least 1 (omit it for no limit)",
                );
            }
        }
        let budget = budget(&field, k.budget_usd, k.budget_period)?;
        access.keys.push(Key {
            name: k.name,
            team,
            models: k.models,
            rpm: k.rpm,
            tpm: k.tpm,
            budget,
            admin: k.admin,
        });
    }
    if access.keys.is_empty() {
        return err(
            "access.keys",
            "at least one key or principal is required when access is configured",
        );
    }
    Ok(access)
}

impl Access {
    pub fn key(&self, index: usize) -> Option<&Key> {
        self.keys.get(index)
    }

    pub fn team_of(&self, key: &Key) -> Option<&Team> {
        key.team.and_then(|t| self.teams.get(t))
    }
}
