//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape, answered by the gateway
//! itself: the configured model names (and, with `allow_provider_model`, `provider/model`
//! of a configured provider), filtered by the caller's allow-list.

use serde::Serialize;

use super::exchange::Exchange;
use crate::error::GatewayError;

pub const MODEL_PREFIX: &str = "/v1/models/";

#[derive(Serialize)]
struct Model<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    owned_by: &'static str,
}

fn model(id: &str) -> Model<'_> {
    Model {
        id,
        object: "model",
        created: 0,
        owned_by: "llm-gateway",
    }
}

pub fn list(x: &Exchange) -> Vec<u8> {
    #[derive(Serialize)]
    struct List<'a> {
        object: &'static str,
        data: Vec<Model<'a>>,
    }
    let list = List {
        object: "list",
        data: x
            .cfg
            .model_names
            .iter()
            .filter(|id| allowed(x, id))
            .map(|id| model(id))
            .collect(),
    };
    serde_json::to_vec(&list).unwrap_or_default()
}

/// One model by id (`path` starts with [`MODEL_PREFIX`]; the id may be percent-encoded,
/// `provider%2Fmodel`). A model the caller may not use is as unknown as one that does not
/// exist: 404 either way, so the allow-list does not reveal other teams' models.
pub fn get(x: &Exchange, path: &str) -> Result<Vec<u8>, GatewayError> {
    let raw = path.get(MODEL_PREFIX.len()..).unwrap_or_default();
    let id = percent_decoded(raw).ok_or_else(|| GatewayError::unknown_model(raw))?;
    let served = x.cfg.models.contains_key(&id)
        || (x.cfg.allow_provider_model
            && id
                .split_once('/')
                .is_some_and(|(p, m)| !m.is_empty() && x.cfg.provider_index(p).is_some()));
    if !served || !allowed(x, &id) {
        return Err(GatewayError::unknown_model(&id));
    }
    serde_json::to_vec(&model(&id)).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

/// The caller's allow-list (everything when there is none).
fn allowed(x: &Exchange, model: &str) -> bool {
    let key = x
        .cfg
        .access
        .as_ref()
        .and_then(|a| x.caller.and_then(|i| a.key(i)));
    match key.and_then(|k| k.models.as_ref()) {
        Some(list) => list.iter().any(|m| m == model),
        None => true,
    }
}

/// `%XX` sequences decoded; `None` for a malformed one or bytes that are not UTF-8.
fn percent_decoded(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decoded("gpt-4o").as_deref(), Some("gpt-4o"));
        assert_eq!(
            percent_decoded("openai%2Fgpt-4o").as_deref(),
            Some("openai/gpt-4o")
        );
        assert_eq!(percent_decoded("a%2"), None);
        assert_eq!(percent_decoded("a%zz"), None);
        assert_eq!(percent_decoded("%ff"), None);
    }
}
