//! Claude on Vertex AI takes the Anthropic Messages body through `rawPredict` /
//! `streamRawPredict`: the client's body goes as sent (every field Anthropic knows,
//! `cache_control` and `context_management` included) except that `model` leaves it (the
//! model is in the path) and Vertex's `anthropic_version` comes in. `count_tokens` goes to
//! `count-tokens:rawPredict` with the model kept in the body.

// A client body that already carries `anthropic_version` is rebuilt as a JSON tree (rare):
// every other member passes through untouched (filter/clippy.toml).
#![allow(clippy::disallowed_types)]

use serde_json::{Map, Value};

use super::native_body;
use crate::api::anthropic_server::MessagesRequest;
use crate::codec::json_splice::{find_top_level, insert_first, replace_member};
use crate::config::Provider;
use crate::error::GatewayError;
use crate::translate::gemini::path_model;
use crate::translate::vertex::settings::VertexAnthropicSettings;
use crate::translate::vertex::{bearer, publisher_prefix};
use crate::translate::UpstreamRequest;

const VERSION_KEY: &str = "anthropic_version";

pub fn request(
    provider: &Provider,
    s: &VertexAnthropicSettings,
    upstream_model: &str,
    req: &MessagesRequest,
    raw: &[u8],
) -> Result<UpstreamRequest, GatewayError> {
    let model = path_model(upstream_model)?;
    let prefix = publisher_prefix(provider, &s.vertex, "anthropic");
    let with_model = native_body::body(req, upstream_model, raw)?;
    let sent = with_model.as_deref().unwrap_or(raw);
    let (path, body) = if req.count_only {
        let path = format!("{prefix}/count-tokens:rawPredict");
        (path, versioned(sent, &s.version, true)?)
    } else {
        let method = if req.is_stream() {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        (
            format!("{prefix}/{model}:{method}"),
            versioned(sent, &s.version, false)?,
        )
    };
    let mut headers = bearer(provider);
    headers.extend(native_body::beta_header(req));
    Ok(UpstreamRequest {
        path,
        headers,
        body: Some(body),
    })
}

/// `body` with Vertex's `anthropic_version` (the configured one wins over a client's),
/// and without `model` unless `keep_model`.
fn versioned(body: &[u8], version: &str, keep_model: bool) -> Result<Vec<u8>, GatewayError> {
    let quoted =
        serde_json::to_vec(version).map_err(|e| GatewayError::internal(format!("version: {e}")))?;
    if find_top_level(body, VERSION_KEY).is_none() {
        let spliced = if keep_model {
            insert_first(body, VERSION_KEY, &quoted)
        } else {
            let mut member = Vec::with_capacity(quoted.len() + VERSION_KEY.len() + 3);
            member.push(b'"');
            member.extend_from_slice(VERSION_KEY.as_bytes());
            member.extend_from_slice(b"\":");
            member.extend_from_slice(&quoted);
            replace_member(body, "model", &member)
        };
        if let Some(out) = spliced {
            return Ok(out);
        }
    }
    let mut tree: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| GatewayError::bad_request(format!("invalid request body: {e}")))?;
    if !keep_model {
        tree.remove("model");
    }
    tree.insert(VERSION_KEY.to_string(), Value::String(version.to_string()));
    serde_json::to_vec(&tree).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(b: &[u8]) -> Value {
        serde_json::from_slice(b).unwrap()
    }

    #[test]
    fn model_leaves_and_version_comes_in() {
        let body =
            br#"{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;
        let out = versioned(body, "vertex-2023-10-16", false).unwrap();
        assert_eq!(
            json(&out),
            serde_json::json!({"anthropic_version":"vertex-2023-10-16","max_tokens":5,
                               "messages":[{"role":"user","content":"hi"}]})
        );
        let counted = versioned(body, "vertex-2023-10-16", true).unwrap();
        assert_eq!(json(&counted)["model"], "claude");
        assert_eq!(json(&counted)["anthropic_version"], "vertex-2023-10-16");
    }

    #[test]
    fn a_client_version_is_replaced_not_duplicated() {
        let body = br#"{"anthropic_version":"bedrock-2023-05-31","model":"m","messages":[]}"#;
        for keep in [false, true] {
            let out = versioned(body, "vertex-2023-10-16", keep).unwrap();
            let text = String::from_utf8(out.clone()).unwrap();
            assert_eq!(text.matches("anthropic_version").count(), 1, "{text}");
            assert_eq!(json(&out)["anthropic_version"], "vertex-2023-10-16");
            assert_eq!(json(&out).get("model").is_some(), keep);
        }
    }
}
