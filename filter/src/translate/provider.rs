//! The provider as a unit: everything the gateway asks of a provider kind goes through
//! [`Translator`], one impl per folder under `translate/`. Translators return data
//! (paths, headers, bytes, usage) and never touch the host.
//!
//! The translator of a configured provider is its settings, built once in
//! `on_configure` (`config::ProviderKind`); [`of`] only picks the trait object, so a
//! request step costs one dynamic call and no allocation.

use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{AnthropicSettings, Provider, ProviderKind};
use crate::error::GatewayError;
use crate::translate::embeddings::Shape;
use crate::translate::{
    gemini, openai, ResponseMeta, ResponseOut, StreamMapper, StreamSettings, UpstreamRequest,
    EVENT_STREAM,
};

pub trait Translator {
    /// The kind's name in the configuration (`kind`), for messages.
    fn kind(&self) -> &'static str;

    /// Headers this kind writes its credentials (and protocol version) into. The
    /// gateway sets them itself; each provider folder checks at compile time that an
    /// operator cannot let a client's copy through (`config::forward::refuses_all`).
    fn credential_headers(&self) -> &'static [&'static str];

    /// Client headers this kind needs on top of what every kind may see.
    fn client_headers(&self) -> &'static [&'static str] {
        &[]
    }

    /// OpenAI chat request → the upstream request (path, headers, body).
    fn request(
        &self,
        provider: &Provider,
        upstream_model: &str,
        req: &ChatRequest,
        raw: &[u8],
        now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError>;

    /// Request fields this kind cannot honour as given (the request builder leaves
    /// them out or clamps them). The gateway drops them with a log line, or refuses the
    /// request in strict mode.
    fn unhonoured(&self, _req: &ChatRequest) -> Vec<&'static str> {
        Vec::new()
    }

    /// A buffered answer → the OpenAI chat completion and its usage.
    fn response(
        &self,
        status: u16,
        body: &[u8],
        created: u64,
        meta: &ResponseMeta<'_>,
    ) -> Result<ResponseOut, GatewayError>;

    /// A failed answer → the OpenAI error the client gets. Never fails.
    fn error(&self, status: u16, body: &[u8], meta: &ResponseMeta<'_>) -> GatewayError;

    /// The mapper of a successful stream into OpenAI chunks.
    fn stream(&self, settings: StreamSettings, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper>;

    /// Content type of a successful stream (what [`Translator::stream`] reads).
    fn stream_content_type(&self) -> &'static str {
        EVENT_STREAM
    }

    /// Speaks Anthropic Messages natively: `/v1/messages` passes through with these
    /// settings instead of being translated via OpenAI chat.
    fn messages_native(&self) -> Option<&AnthropicSettings> {
        None
    }

    /// `/v1/embeddings` → the upstream request. Default: the kind has no embeddings.
    fn embeddings_request(
        &self,
        provider: &Provider,
        _upstream_model: &str,
        _req: &EmbeddingsRequest,
        _raw: &[u8],
        _now_ms: u64,
    ) -> Result<UpstreamRequest, GatewayError> {
        Err(no_embeddings(provider, self.kind()))
    }

    /// An embeddings answer → the OpenAI list and its usage.
    fn embeddings_response(
        &self,
        provider: &Provider,
        _status: u16,
        _body: &[u8],
        _meta: &ResponseMeta<'_>,
        _shape: &Shape,
    ) -> Result<ResponseOut, GatewayError> {
        Err(no_embeddings(provider, self.kind()))
    }
}

/// The translator of a configured provider.
pub fn of(provider: &Provider) -> &dyn Translator {
    match &provider.kind {
        ProviderKind::OpenAi => &openai::OpenAi,
        ProviderKind::Anthropic(s) => s,
        ProviderKind::Gemini => &gemini::Gemini,
        ProviderKind::Vertex(s) => s,
        ProviderKind::VertexAnthropic(s) => s,
        ProviderKind::Azure(s) => s,
        ProviderKind::Bedrock(s) => s,
    }
}

fn no_embeddings(provider: &Provider, kind: &str) -> GatewayError {
    GatewayError::bad_field(
        "model",
        format!(
            "provider {:?} ({kind}) does not serve embeddings through this gateway",
            provider.name
        ),
    )
}
