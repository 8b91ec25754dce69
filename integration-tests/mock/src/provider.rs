//! Provider endpoints: pick the wire format from the path, apply the fault, record.

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::json;

use crate::deliver::{boxed, deliver, BoxError, RespBody};
use crate::faults::{self, FaultSpec};
use crate::openai::Ctx;
use crate::record::{headers_map, Record};
use crate::reply::{unix_now, Payload, Reply};
use crate::state::State;
use crate::{
    anthropic, bedrock, count_tokens, embed_upstream, embeddings, gemini, openai, provider_counts,
    responses, vertex,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenAi,
    Anthropic,
    /// `…/models/{m}:generateContent` / `:streamGenerateContent` (AI Studio, Vertex).
    Gemini,
    /// `…/publishers/anthropic/models/{m}:rawPredict` / `:streamRawPredict` (Vertex).
    VertexAnthropic,
    /// OpenAI Embeddings (same error shapes as OpenAi).
    Embeddings,
    /// Bedrock Converse; `stream` for ConverseStream.
    Bedrock {
        stream: bool,
    },
    /// Gemini `…/models/{m}:batchEmbedContents`.
    GeminiEmbed,
    /// Vertex AI `…/publishers/google/models/{m}:predict` (text embeddings).
    VertexEmbed,
    /// Bedrock `InvokeModel` (`…/model/{id}/invoke`): Titan and Cohere embeddings.
    BedrockInvoke,
    /// Anthropic `POST /v1/messages/count_tokens`.
    AnthropicCount,
    /// Vertex AI `…/publishers/anthropic/models/count-tokens:rawPredict`.
    VertexAnthropicCount,
    /// Gemini `…/models/{m}:countTokens` (AI Studio; Vertex AI when `vertex`).
    GeminiCount {
        vertex: bool,
    },
    /// Bedrock `…/model/{id}/count-tokens`.
    BedrockCount,
    /// OpenAI Responses API (`…/responses`).
    Responses,
    /// `…/responses/{id}` (GET, DELETE): a stored response.
    StoredResponse,
    /// Not a provider path: answered with an OpenAI-shaped 404.
    Unknown,
}

impl Format {
    pub fn of(path: &str) -> Format {
        if path.ends_with("/chat/completions") {
            Format::OpenAi
        } else if path.ends_with("/messages/count_tokens") {
            Format::AnthropicCount
        } else if path.ends_with("/messages") {
            Format::Anthropic
        } else if path.ends_with("/responses") {
            Format::Responses
        } else if path.contains("/responses/") {
            Format::StoredResponse
        } else if path.ends_with("/embeddings") {
            Format::Embeddings
        } else if let Some(stream) = bedrock::operation(path) {
            Format::Bedrock { stream }
        } else if provider_counts::is_bedrock(path) {
            Format::BedrockCount
        } else if embed_upstream::invoke_model(path).is_some() {
            Format::BedrockInvoke
        } else {
            Self::google(path)
        }
    }

    fn google(path: &str) -> Format {
        match gemini::model_and_method(path) {
            Some((_, "generateContent" | "streamGenerateContent")) => Format::Gemini,
            Some(("count-tokens", "rawPredict")) => Format::VertexAnthropicCount,
            Some((_, "rawPredict" | "streamRawPredict")) => Format::VertexAnthropic,
            Some((_, "batchEmbedContents")) => Format::GeminiEmbed,
            Some((_, "countTokens")) => Format::GeminiCount {
                vertex: path.contains("/publishers/google/"),
            },
            Some((_, "predict")) => Format::VertexEmbed,
            _ => Format::Unknown,
        }
    }

    fn error(self, status: u16) -> Reply {
        match self {
            Format::Anthropic | Format::AnthropicCount => anthropic::error(status),
            Format::Gemini
            | Format::GeminiEmbed
            | Format::VertexEmbed
            | Format::GeminiCount { .. } => gemini::error(status),
            Format::VertexAnthropic | Format::VertexAnthropicCount => vertex::error(status),
            Format::Bedrock { .. } | Format::BedrockInvoke | Format::BedrockCount => {
                bedrock::error(status)
            }
            Format::OpenAi
            | Format::Embeddings
            | Format::Unknown
            | Format::Responses
            | Format::StoredResponse => openai::error(status),
        }
    }

    fn error_event(self, status: Option<u16>) -> String {
        match self {
            Format::Anthropic
            | Format::AnthropicCount
            | Format::VertexAnthropic
            | Format::VertexAnthropicCount => anthropic::error_event(status.unwrap_or(529)),
            Format::Gemini => gemini::error_event(status.unwrap_or(503)),
            Format::Responses | Format::StoredResponse => {
                responses::error_event(status.unwrap_or(500))
            }
            Format::OpenAi
            | Format::Embeddings
            | Format::Unknown
            | Format::Bedrock { .. }
            | Format::GeminiEmbed
            | Format::VertexEmbed
            | Format::GeminiCount { .. }
            | Format::BedrockCount
            | Format::BedrockInvoke => openai::error_event(status.unwrap_or(500)),
        }
    }
}

/// Handles one provider request end to end.
pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, BoxError> {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let format = Format::of(req.uri().path());
    let headers = headers_map(req.headers());
    let header_fault = faults::from_headers(req.headers());
    // A credential the identity endpoints did not issue (or that expired): 401.
    let header_fault = if crate::identity::accepts(req.headers()) {
        header_fault
    } else {
        FaultSpec {
            status: Some(401),
            ..FaultSpec::default()
        }
    };
    let body = req.into_body().collect().await.map_err(boxed)?.to_bytes();

    let (seq, queued) = state.begin();
    let fault = queued.unwrap_or_default().overridden_by(header_fault);
    let ctx = Ctx {
        name: &state.name,
        n: seq,
        created: unix_now(),
    };
    let reply = answer(format, &method, &path, &body, &fault, ctx);
    state.record(Record {
        seq,
        method: method.to_string(),
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        usage: reply.usage,
        status: (!fault.is_reset()).then_some(reply.status),
        fault: (!fault.is_empty()).then(|| fault.clone()),
    });
    deliver(reply, &fault).await
}

/// The reply before transport faults (delay, reset, cut, chunking) are applied.
fn answer(
    format: Format,
    method: &Method,
    path: &str,
    body: &[u8],
    fault: &FaultSpec,
    ctx: Ctx<'_>,
) -> Reply {
    if let Some(raw) = &fault.body {
        let ctype = fault.content_type.as_deref().unwrap_or("application/json");
        return Reply {
            status: fault.status.unwrap_or(200),
            headers: if ctype.is_empty() {
                Vec::new()
            } else {
                vec![("content-type".into(), ctype.into())]
            },
            payload: Payload::Whole(raw.clone().into_bytes()),
            usage: None,
        };
    }
    if let Some(status) = fault.status.filter(|s| !(200..300).contains(s)) {
        return format.error(status);
    }
    let mut reply = match format {
        _ if azure_without_version(path) => Reply::json(
            404,
            &json!({"error": {"code": "404", "message": "Resource not found"}}),
        ),
        Format::Unknown => Reply::json(
            404,
            &json!({"error": {
                "message": format!("Invalid URL ({method} {path})"),
                "type": "invalid_request_error",
                "param": null,
                "code": null,
            }}),
        ),
        Format::StoredResponse => responses::stored(method, path),
        _ if method != Method::POST => format.error(405),
        Format::Responses => responses::respond(body, ctx),
        Format::OpenAi => openai::respond(body, ctx),
        Format::Anthropic => anthropic::respond(body, ctx),
        Format::AnthropicCount => count_tokens::respond(body),
        Format::Gemini => gemini::respond(body, path, ctx),
        Format::VertexAnthropic => vertex::respond(body, path, ctx),
        Format::VertexAnthropicCount => vertex::count(body),
        Format::GeminiCount { vertex } => provider_counts::gemini(body, vertex),
        Format::BedrockCount => provider_counts::bedrock(body),
        Format::Embeddings => embeddings::respond(body, ctx),
        Format::Bedrock { stream } => bedrock::respond(body, stream, ctx),
        Format::GeminiEmbed => {
            let model = gemini::model_and_method(path).map_or("", |(m, _)| m);
            embed_upstream::gemini_batch(body, model)
        }
        Format::VertexEmbed => embed_upstream::vertex_predict(body),
        Format::BedrockInvoke => {
            let model = embed_upstream::invoke_model(path).unwrap_or_default();
            embed_upstream::bedrock_invoke(body, &model, ctx)
        }
    };
    if let Some(status) = fault.status {
        reply.status = status;
    }
    match (fault.error_after_events, &mut reply.payload) {
        (Some(n), Payload::Events(events)) if format == Format::Responses => {
            events.truncate(n);
            events.push(responses::failed_event(
                ctx,
                n,
                fault.error_status.unwrap_or(500),
            ));
        }
        (Some(n), Payload::Events(events)) => {
            events.truncate(n);
            events.push(format.error_event(fault.error_status));
        }
        (Some(n), Payload::Binary(frames)) => {
            frames.truncate(n);
            frames.push(bedrock::error_event(fault.error_status.unwrap_or(503)));
        }
        _ => {}
    }
    reply.with_header("x-mock-name", ctx.name)
}

/// Azure OpenAI deployment paths need an `api-version` query parameter.
fn azure_without_version(path_and_query: &str) -> bool {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    path.starts_with("/openai/deployments/")
        && !query.split('&').any(|kv| {
            kv.split_once('=')
                .is_some_and(|(k, v)| k == "api-version" && !v.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: Ctx<'static> = Ctx {
        name: "p",
        n: 1,
        created: 0,
    };

    #[test]
    fn formats() {
        assert_eq!(Format::of("/v1/chat/completions"), Format::OpenAi);
        assert_eq!(Format::of("/openai/v1/chat/completions"), Format::OpenAi);
        assert_eq!(Format::of("/v1/messages"), Format::Anthropic);
        assert_eq!(Format::of("/v1/models"), Format::Unknown);
        assert_eq!(
            Format::of("/v1beta/models/gemini-2.5-flash:generateContent"),
            Format::Gemini
        );
        assert_eq!(
            Format::of(
                "/v1/projects/p/locations/l/publishers/google/models/g:streamGenerateContent"
            ),
            Format::Gemini
        );
        assert_eq!(
            Format::of(
                "/v1/projects/p/locations/l/publishers/anthropic/models/c@1:streamRawPredict"
            ),
            Format::VertexAnthropic
        );
        assert_eq!(
            Format::of(
                "/v1/projects/p/locations/l/publishers/anthropic/models/count-tokens:rawPredict"
            ),
            Format::VertexAnthropicCount
        );
        assert_eq!(Format::of("/v1/embeddings"), Format::Embeddings);
        assert_eq!(
            Format::of("/v1beta/models/gemini-embedding-001:batchEmbedContents"),
            Format::GeminiEmbed
        );
        assert_eq!(
            Format::of("/v1/projects/p/locations/l/publishers/google/models/t:predict"),
            Format::VertexEmbed
        );
        assert_eq!(
            Format::of("/model/cohere.embed-english-v3/invoke"),
            Format::BedrockInvoke
        );
        assert!(azure_without_version(
            "/openai/deployments/d/chat/completions"
        ));
        assert!(azure_without_version(
            "/openai/deployments/d/embeddings?api-version="
        ));
        assert!(!azure_without_version(
            "/openai/deployments/d/chat/completions?x=1&api-version=2024-10-21"
        ));
        assert!(!azure_without_version("/v1/chat/completions"));
        assert_eq!(
            Format::of("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream"),
            Format::Bedrock { stream: true }
        );
    }

    #[test]
    fn status_fault_uses_provider_shape() {
        let fault = FaultSpec {
            status: Some(529),
            ..FaultSpec::default()
        };
        let reply = answer(
            Format::Anthropic,
            &Method::POST,
            "/v1/messages",
            b"{}",
            &fault,
            CTX,
        );
        assert_eq!(reply.status, 529);
        let body = match reply.payload {
            Payload::Whole(b) => b,
            _ => Vec::new(),
        };
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(v.pointer("/error/type"), Some(&json!("overloaded_error")));
    }

    #[test]
    fn error_after_events() {
        let fault = FaultSpec {
            error_after_events: Some(2),
            ..FaultSpec::default()
        };
        let body = br#"{"model":"m","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"a"}]}"#;
        let reply = answer(
            Format::Anthropic,
            &Method::POST,
            "/v1/messages",
            body,
            &fault,
            CTX,
        );
        let events = match reply.payload {
            Payload::Events(e) => e,
            _ => Vec::new(),
        };
        assert_eq!(events.len(), 3);
        assert!(events
            .last()
            .is_some_and(|e| e.starts_with("event: error\n")));
    }
}
