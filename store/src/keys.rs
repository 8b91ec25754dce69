//! Runtime keys: records in Redis under `key:<sha256 hex>` (a hash: name, models,
//! rpm, tpm, budget_nano_usd, budget_period, revoked), read on every admission of a
//! key the configuration does not list, written by `llm-store key …`.

use std::collections::HashMap;

use fleet_proto::KeyRecord;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn record_key(prefix: &str, sha256: &str) -> String {
    format!("{prefix}key:{sha256}")
}

/// The live record (None: unknown or revoked).
pub async fn read(
    con: &mut ConnectionManager,
    prefix: &str,
    sha256: &str,
) -> redis::RedisResult<Option<KeyRecord>> {
    if !is_sha256_hex(sha256) {
        return Ok(None);
    }
    let h: HashMap<String, String> = con.hgetall(record_key(prefix, sha256)).await?;
    Ok(parse(&h))
}

fn parse(h: &HashMap<String, String>) -> Option<KeyRecord> {
    let name = h.get("name").filter(|n| !n.is_empty())?;
    if h.get("revoked").is_some_and(|r| r == "1") {
        return None;
    }
    let num = |f: &str| h.get(f).and_then(|v| v.parse::<u64>().ok());
    Some(KeyRecord {
        name: name.clone(),
        models: h
            .get("models")
            .map(|m| {
                m.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        rpm: num("rpm"),
        tpm: num("tpm"),
        budget_nano_usd: num("budget_nano_usd"),
        budget_period: h.get("budget_period").cloned(),
    })
}

/// Add (or replace) a key.
pub async fn add(
    con: &mut ConnectionManager,
    prefix: &str,
    sha256: &str,
    r: &KeyRecord,
) -> redis::RedisResult<()> {
    let mut fields: Vec<(&str, String)> = vec![
        ("name", r.name.clone()),
        ("models", r.models.join(",")),
        ("revoked", "0".into()),
    ];
    let mut absent = Vec::new();
    for (f, v) in [
        ("rpm", r.rpm),
        ("tpm", r.tpm),
        ("budget_nano_usd", r.budget_nano_usd),
    ] {
        match v {
            Some(v) => fields.push((f, v.to_string())),
            None => absent.push(f),
        }
    }
    match &r.budget_period {
        Some(p) => fields.push(("budget_period", p.clone())),
        None => absent.push("budget_period"),
    }
    let key = record_key(prefix, sha256);
    let mut pipe = redis::pipe();
    pipe.atomic();
    if !absent.is_empty() {
        pipe.hdel(&key, absent).ignore();
    }
    pipe.hset_multiple(&key, &fields).ignore();
    pipe.query_async::<()>(con).await
}

/// Revoke a key: its record stays (for the audit trail), marked revoked. False: unknown.
pub async fn revoke(
    con: &mut ConnectionManager,
    prefix: &str,
    sha256: &str,
) -> redis::RedisResult<bool> {
    let key = record_key(prefix, sha256);
    let exists: bool = con.exists(&key).await?;
    if exists {
        let _: () = con.hset(&key, "revoked", "1").await?;
    }
    Ok(exists)
}

/// Every key record: (sha256, name, revoked).
pub async fn list(
    con: &mut ConnectionManager,
    prefix: &str,
) -> redis::RedisResult<Vec<(String, String, bool)>> {
    let pattern = format!("{prefix}key:*");
    let mut keys: Vec<String> = Vec::new();
    {
        let mut it: redis::AsyncIter<String> = con.scan_match(&pattern).await?;
        while let Some(k) = it.next_item().await {
            keys.push(k?);
        }
    }
    let mut out = Vec::new();
    for k in keys {
        let h: HashMap<String, String> = con.hgetall(&k).await?;
        let sha = k.rsplit(':').next().unwrap_or("").to_string();
        let name = h.get("name").cloned().unwrap_or_default();
        out.push((sha, name, h.get("revoked").is_some_and(|r| r == "1")));
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let mut h = HashMap::new();
        assert_eq!(parse(&h), None);
        h.insert("name".to_string(), "k".to_string());
        h.insert("models".to_string(), "a,b".to_string());
        h.insert("rpm".to_string(), "3".to_string());
        let r = parse(&h).unwrap();
        assert_eq!((r.models.len(), r.rpm, r.tpm), (2, Some(3), None));
        h.insert("revoked".to_string(), "1".to_string());
        assert_eq!(parse(&h), None);
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex("../x"));
    }
}
