//! Azure OpenAI as a [`Translator`]: OpenAI's wire format on a deployment path, with
//! an `api-key` or an Entra ID bearer token; answers are OpenAI's.

use super::settings::{AzureAuth, AzureSettings};
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::openai::ChatRequest;
use crate::config::forward;
use crate::error::GatewayError;
use crate::translate::dialect::Dialect;
use crate::translate::embeddings::Shape;
use crate::translate::openai;
use crate::translate::openai::settings::OpenAi;
use crate::translate::translator::{Answer, Answered, Call, Facts, Translator, Upstream};
use crate::translate::{ResponseMeta, StreamMapper, UpstreamRequest};

const FACTS: Facts = Facts {
    kind: "azure",
    credentials: &["api-key", "authorization"],
    client_headers: &["x-ms-client-request-id"],
    unmapped: &[],
};
const _: () = assert!(forward::refuses_all(FACTS.credentials));

impl Translator for AzureSettings {
    fn semconv_name(&self, _: Option<crate::config::Preset>) -> &'static str {
        "azure.ai.openai"
    }

    fn token_header(&self) -> (&'static str, &'static str) {
        match self.auth {
            AzureAuth::ApiKey => ("api-key", ""),
            AzureAuth::Bearer => ("authorization", "Bearer "),
        }
    }

    fn facts(&self) -> &'static Facts {
        &FACTS
    }

    fn request(&self, call: &Call<'_>, req: &ChatRequest) -> Upstream {
        super::request(call.provider, self, call.model, req, call.raw)
    }

    fn response(&self, a: &Answer<'_>) -> Answered {
        OpenAi.response(a)
    }

    fn error(&self, a: &Answer<'_>) -> GatewayError {
        OpenAi.error(a)
    }

    fn stream(&self, to: Dialect, meta: &ResponseMeta<'_>) -> Box<dyn StreamMapper> {
        OpenAi.stream(to, meta)
    }

    fn embeddings_request(&self, call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
        let (provider, deployment) = (call.provider, call.model);
        Ok(UpstreamRequest {
            path: super::path(provider, self, deployment, "embeddings")?,
            headers: super::headers(provider, self),
            body: openai::rewrite_model(call.raw, &req.model, deployment)?,
        })
    }

    fn embeddings_response(&self, a: &Answer<'_>, shape: &Shape) -> Answered {
        OpenAi.embeddings_response(a, shape)
    }
}
