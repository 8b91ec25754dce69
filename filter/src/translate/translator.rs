//! The provider as a unit: everything the gateway asks of a provider kind goes through
//! [`Translator`], one impl per folder under `translate/`. Translators return data
//! (paths, headers, bytes, usage) and never touch the host.
//!
//! The translator of a configured provider is its kind's settings, built once in
//! `on_configure` (`config::ProviderKind`); picking it is one match, so a request step
//! costs one dynamic call and no allocation. A translator reads the provider's common
//! fields ([`ProviderCommon`]), never the configured `Provider`, which holds the kinds.

use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::{ProviderCommon, Secret};
use crate::error::GatewayError;
use crate::translate::anthropic::settings::AnthropicSettings;
use crate::translate::dialect::Dialect;
use crate::translate::embeddings_out::Shape;
use crate::translate::unhonoured::optional;
use crate::translate::vertex::settings::VertexAnthropicSettings;
use crate::translate::{ResponseMeta, ResponseOut, StreamMapper, UpstreamRequest, EVENT_STREAM};

/// What a translator needs to build an upstream request besides the client's request.
pub struct Call<'a> {
    pub provider: &'a ProviderCommon,
    /// The provider's model the request goes to.
    pub model: &'a str,
    /// The client's body as received (passed through where the format allows).
    pub raw: &'a [u8],
    /// Signing time (AWS SigV4).
    pub now_ms: u64,
}

impl<'a> Call<'a> {
    pub fn new(provider: &'a ProviderCommon, model: &'a str, raw: &'a [u8], now_ms: u64) -> Self {
        Call {
            provider,
            model,
            raw,
            now_ms,
        }
    }
}

/// An upstream answer to translate.
pub struct Answer<'a> {
    pub provider: &'a ProviderCommon,
    pub status: u16,
    pub body: &'a [u8],
    /// `created` of the OpenAI answer.
    pub created: u64,
    pub meta: &'a ResponseMeta<'a>,
}

impl<'a> Answer<'a> {
    pub fn new(
        provider: &'a ProviderCommon,
        status: u16,
        body: &'a [u8],
        created: u64,
        meta: &'a ResponseMeta<'a>,
    ) -> Self {
        Answer {
            provider,
            status,
            body,
            created,
            meta,
        }
    }
}

/// The request to send upstream, or why not.
pub type Upstream = Result<UpstreamRequest, GatewayError>;
/// The answer for the client, or the error it gets instead.
pub type Answered = Result<ResponseOut, GatewayError>;

/// What the gateway must know about a provider kind besides translating.
pub struct Facts {
    /// The kind's name in the configuration (`kind`), for messages.
    pub kind: &'static str,
    /// Headers the kind writes its credentials (and protocol version) into. The
    /// gateway sets them itself; each provider folder checks at compile time that an
    /// operator cannot let a client's copy through (`config::forward::refuses_all`).
    pub credentials: &'static [&'static str],
    /// Client headers the kind needs on top of what every kind may see.
    pub client_headers: &'static [&'static str],
    /// Optional OpenAI fields (`unhonoured.rs`) the request builder has no place for.
    pub unmapped: &'static [&'static str],
}

/// A provider that takes the Anthropic Messages body itself, and how it wants it sent.
#[derive(Clone, Copy)]
pub enum NativeMessages<'a> {
    /// Anthropic's API: the body as sent, `model` rewritten.
    Anthropic(&'a AnthropicSettings),
    /// Claude on Vertex AI (`rawPredict`): the model in the path, Vertex's
    /// `anthropic_version` in the body.
    Vertex(&'a VertexAnthropicSettings),
}

pub trait Translator {
    /// What the gateway must know about this kind besides translating.
    fn facts(&self) -> &'static Facts;

    /// `gen_ai.provider.name` of the OpenTelemetry conventions for this provider
    /// (`preset`: the OpenAI-compatible service, for the `openai` kind).
    fn semconv_name(&self, preset: Option<crate::config::Preset>) -> &'static str;

    /// The header a token fetched for this provider goes into, and the value's prefix
    /// (`credential` sources the filter refreshes itself).
    fn token_header(&self) -> (&'static str, &'static str) {
        ("authorization", "Bearer ")
    }

    /// OpenAI chat request → the upstream request (path, headers, body).
    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream;

    /// Request fields this kind cannot honour as given (the request builder leaves
    /// them out or clamps them). The gateway drops them with a log line, or refuses the
    /// request in strict mode.
    fn unhonoured(&self, req: &ChatRequest) -> Vec<&'static str> {
        optional(req, self.facts().unmapped)
    }

    /// As [`Translator::unhonoured`], for a request to the provider's `model`: kinds
    /// whose models take different fields (Bedrock) look at it.
    fn unhonoured_at(&self, _model: &str, req: &ChatRequest) -> Vec<&'static str> {
        self.unhonoured(req)
    }

    /// A buffered answer → the OpenAI chat completion and its usage.
    fn response(&self, answer: &Answer<'_>) -> Answered;

    /// A failed answer → the OpenAI error the client gets. Never fails.
    fn error(&self, answer: &Answer<'_>) -> GatewayError;

    /// The mapper of a successful stream: this provider's decoder (events) joined with
    /// the writer of the client's dialect ([`Dialect`]).
    fn stream(&self, to: Dialect, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper>;

    /// Content type of a successful stream (what [`Translator::stream`] reads).
    fn stream_content_type(&self) -> &'static str {
        EVENT_STREAM
    }

    /// Credentials of the kind's own settings (beyond the common `api_key`), so that
    /// none of them reaches a client in what a provider says.
    fn secrets(&self) -> Vec<&Secret> {
        Vec::new()
    }

    /// Speaks Anthropic Messages natively: `/v1/messages` passes through with these
    /// settings instead of being translated via OpenAI chat.
    fn messages_native(&self) -> Option<NativeMessages<'_>> {
        None
    }

    /// `/v1/embeddings` → the upstream request. Default: the kind has no embeddings.
    fn embeddings_request(&self, call: &Call<'_>, _req: &EmbeddingsRequest) -> Upstream {
        Err(no_embeddings(call.provider, self.facts().kind))
    }

    /// An embeddings answer → the OpenAI list and its usage.
    fn embeddings_response(&self, answer: &Answer<'_>, _shape: &Shape) -> Answered {
        Err(no_embeddings(answer.provider, self.facts().kind))
    }
}

fn no_embeddings(provider: &ProviderCommon, kind: &str) -> GatewayError {
    GatewayError::bad_field(
        "model",
        format!(
            "provider {:?} ({kind}) does not serve embeddings through this gateway",
            provider.name
        ),
    )
}
