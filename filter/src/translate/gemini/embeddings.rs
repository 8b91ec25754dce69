//! `/v1/embeddings` for Gemini (Google AI Studio `batchEmbedContents`, one request per
//! input; no token usage reported, so it is estimated) and Gemini on Vertex AI
//! (`predict`, one instance per input; usage from `statistics.token_count`).

use crate::api::embeddings::EmbeddingsRequest;
use crate::api::embeddings_upstream as up;
use crate::error::GatewayError;
use crate::translate::embeddings::{texts, Shape};
use crate::translate::translator::{Answer, Call, Upstream};
use crate::translate::vertex::settings::VertexSettings;
use crate::translate::UpstreamRequest;
use crate::translate::{
    embeddings_out, gemini, gemini::response as gemini_response, vertex, ResponseMeta, ResponseOut,
};

/// `batchEmbedContents` takes at most this many requests.
const GEMINI_MAX_INPUTS: usize = 100;

pub fn gemini_request(call: &Call<'_>, req: &EmbeddingsRequest) -> Upstream {
    let (provider, model) = (call.provider, gemini::path_model(call.model)?);
    let inputs = texts(req, "gemini")?;
    if inputs.len() > GEMINI_MAX_INPUTS {
        return Err(GatewayError::bad_field(
            "input",
            format!("this model's provider (gemini) embeds at most {GEMINI_MAX_INPUTS} inputs per request"),
        ));
    }
    let name = format!("models/{model}");
    let body = up::BatchEmbedRequest {
        requests: inputs
            .into_iter()
            .map(|text| up::EmbedContentRequest {
                model: &name,
                content: up::EmbedContent {
                    parts: vec![up::TextPart { text }],
                },
                output_dimensionality: req.dimensions,
            })
            .collect(),
    };
    let mut headers = Vec::new();
    if let Some(key) = &provider.api_key {
        headers.push(("x-goog-api-key", key.expose().to_string()));
    }
    Ok(UpstreamRequest {
        path: format!("{}/models/{model}:batchEmbedContents", provider.base_path),
        headers,
        body: Some(serialise(&body)?),
    })
}

pub fn vertex_request(call: &Call<'_>, v: &VertexSettings, req: &EmbeddingsRequest) -> Upstream {
    let (provider, model) = (call.provider, gemini::path_model(call.model)?);
    let body = up::PredictRequest {
        instances: texts(req, "vertex")?
            .into_iter()
            .map(|content| up::PredictInstance { content })
            .collect(),
        parameters: req.dimensions.map(|d| up::PredictParameters {
            output_dimensionality: d,
        }),
    };
    Ok(UpstreamRequest {
        path: format!(
            "{}/{model}:predict",
            vertex::publisher_prefix(provider, v, "google")
        ),
        headers: vertex::bearer(provider),
        body: Some(serialise(&body)?),
    })
}

pub fn gemini_response(a: &Answer<'_>, shape: &Shape) -> Result<ResponseOut, GatewayError> {
    let resp: up::BatchEmbedResponse = parse(a, "Gemini embeddings answer")?;
    let vectors = resp.embeddings.into_iter().map(|e| e.values).collect();
    embeddings_out::list(vectors, model_name(a.meta), None, shape)
}

pub fn vertex_response(a: &Answer<'_>, shape: &Shape) -> Result<ResponseOut, GatewayError> {
    let resp: up::PredictResponse = parse(a, "Vertex AI predict answer")?;
    // Reported only when every prediction says how many tokens it read.
    let reported = resp.predictions.iter().try_fold(0u64, |sum, p| {
        let n = p.embeddings.statistics.as_ref()?.token_count?;
        (n.is_finite() && n >= 0.0).then(|| sum + n.round() as u64)
    });
    let vectors = resp
        .predictions
        .into_iter()
        .map(|p| p.embeddings.values)
        .collect();
    embeddings_out::list(vectors, model_name(a.meta), reported, shape)
}

/// A successful answer as `T`; a failed one as Google's error.
fn parse<'a, T: serde::Deserialize<'a>>(a: &Answer<'a>, what: &str) -> Result<T, GatewayError> {
    if !(200..300).contains(&a.status) {
        return Err(gemini_response::error(a.status, a.body));
    }
    serde_json::from_slice(a.body)
        .map_err(|_| GatewayError::bad_gateway(format!("upstream returned a malformed {what}")))
}

fn model_name<'a>(meta: &ResponseMeta<'a>) -> &'a str {
    meta.model.strip_prefix("models/").unwrap_or(meta.model)
}

fn serialise<T: serde::Serialize>(body: &T) -> Result<Vec<u8>, GatewayError> {
    serde_json::to_vec(body).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}
