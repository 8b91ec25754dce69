//! `/v1/embeddings` answers in OpenAI's format (OpenAI, Azure): they pass through;
//! only usage is read.

use crate::api::embeddings::EmbeddingsProbe;
use crate::error::GatewayError;
use crate::translate::ResponseOut;
use crate::usage::TokenUsage;

pub fn response(status: u16, body: &[u8]) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(super::error(status, body));
    }
    let probe: EmbeddingsProbe = serde_json::from_slice(body)
        .map_err(|_| GatewayError::bad_gateway("upstream returned a malformed embeddings list"))?;
    let prompt = probe.usage.and_then(|u| u.prompt_tokens.or(u.total_tokens));
    Ok(ResponseOut {
        finish_reasons: Default::default(),
        body: None,
        usage: TokenUsage {
            prompt,
            // Embeddings produce no completion tokens; zero is the reported truth.
            completion: prompt.map(|_| 0),
            cached_prompt: None,
            reasoning: None,
        },
    })
}
