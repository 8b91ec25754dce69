//! `/v1/embeddings` on Bedrock through `InvokeModel` (`POST /model/{id}/invoke`,
//! SigV4-signed like Converse). The body format follows the model id: Amazon Titan Text
//! Embeddings (`amazon.titan-embed-*`: one text per call, so one input per request)
//! or Cohere Embed (`cohere.embed-*`: up to 96 texts). Titan reports
//! `inputTextTokenCount`; otherwise Bedrock's `x-amzn-bedrock-input-token-count`
//! header is read, and without it usage is estimated.

use super::settings::BedrockSettings;
use crate::api::embeddings::EmbeddingsRequest;
use crate::api::embeddings_upstream as up;
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::embeddings::{texts, Shape};
use crate::translate::translator::Answer;
use crate::translate::{bedrock, embeddings_out, ResponseOut, UpstreamRequest};

const COHERE_MAX_TEXTS: usize = 96;
/// What Cohere calls documents to be stored and searched; OpenAI's API has no notion.
const COHERE_INPUT_TYPE: &str = "search_document";
const TOKEN_HEADER: &str = "x-amzn-bedrock-input-token-count";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// `amazon.titan-embed-text-v2`: `dimensions` and `normalize`.
    TitanV2,
    /// Older Titan embeddings (G1): `inputText` only.
    Titan,
    /// `cohere.embed-v4` takes `output_dimension`; v3 has fixed dimensions.
    Cohere { v4: bool },
}

/// The family from the model id; cross-region inference profiles (`us.cohere…`) and
/// ARNs (`…/us.amazon.titan…`) are seen through.
fn family(model: &str) -> Option<Family> {
    let id = model.rsplit('/').next().unwrap_or(model);
    let id = match id.split_once('.') {
        Some((geo, rest)) if !matches!(geo, "amazon" | "cohere") => rest,
        _ => id,
    };
    if id.starts_with("amazon.titan-embed-text-v2") {
        Some(Family::TitanV2)
    } else if id.starts_with("amazon.titan-embed") {
        Some(Family::Titan)
    } else if id.starts_with("cohere.embed") {
        Some(Family::Cohere {
            v4: id.starts_with("cohere.embed-v4"),
        })
    } else {
        None
    }
}

fn unknown_family() -> GatewayError {
    GatewayError::bad_field(
        "model",
        "Bedrock embeddings are served for Amazon Titan (amazon.titan-embed-*) and Cohere (cohere.embed-*) models",
    )
}

fn no_dimensions(which: &str) -> GatewayError {
    GatewayError::bad_field(
        "dimensions",
        format!("{which} has a fixed number of dimensions: leave dimensions out"),
    )
}

pub fn body(model: &str, req: &EmbeddingsRequest) -> Result<Vec<u8>, GatewayError> {
    let family = family(model).ok_or_else(unknown_family)?;
    let inputs = texts(req, "bedrock")?;
    let out = match family {
        Family::TitanV2 | Family::Titan => {
            let [text] = inputs.as_slice() else {
                return Err(GatewayError::bad_field(
                    "input",
                    "Amazon Titan embeds one text per request: send a single string",
                ));
            };
            if family == Family::Titan && req.dimensions.is_some() {
                return Err(no_dimensions("this Titan embeddings model"));
            }
            let v2 = family == Family::TitanV2;
            serde_json::to_vec(&up::TitanRequest {
                input_text: text,
                dimensions: req.dimensions,
                normalize: v2.then_some(true),
            })
        }
        Family::Cohere { v4 } => {
            if inputs.len() > COHERE_MAX_TEXTS {
                return Err(GatewayError::bad_field(
                    "input",
                    format!("Cohere Embed takes at most {COHERE_MAX_TEXTS} inputs per request"),
                ));
            }
            if !v4 && req.dimensions.is_some() {
                return Err(no_dimensions("Cohere Embed v3"));
            }
            serde_json::to_vec(&up::CohereRequest {
                texts: inputs,
                input_type: COHERE_INPUT_TYPE,
                output_dimension: req.dimensions,
            })
        }
    };
    out.map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

pub fn request(
    provider: &ProviderCommon,
    settings: &BedrockSettings,
    upstream_model: &str,
    req: &EmbeddingsRequest,
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    let model = crate::translate::request_parts::encoded_path_segment(upstream_model)?;
    let body = body(upstream_model, req)?;
    let path = format!("{}/model/{model}/invoke", provider.base_path);
    let headers = bedrock::auth_headers(provider, settings, &path, &body, bedrock::JSON, now_ms)?;
    Ok(UpstreamRequest {
        path,
        headers,
        body: Some(body),
    })
}

pub fn response(a: &Answer<'_>, shape: &Shape) -> Result<ResponseOut, GatewayError> {
    let Answer {
        status, body, meta, ..
    } = *a;
    if !(200..300).contains(&status) {
        return Err(bedrock::error(status, body, meta));
    }
    let header_tokens = (meta.header)(TOKEN_HEADER).and_then(|v| v.trim().parse::<u64>().ok());
    let malformed =
        || GatewayError::bad_gateway("upstream returned a malformed Bedrock embeddings answer");
    let (vectors, reported) = match family(meta.model).ok_or_else(unknown_family)? {
        Family::TitanV2 | Family::Titan => {
            let r: up::TitanResponse = serde_json::from_slice(body).map_err(|_| malformed())?;
            (
                vec![r.embedding],
                r.input_text_token_count.or(header_tokens),
            )
        }
        Family::Cohere { .. } => {
            let r: up::CohereResponse = serde_json::from_slice(body).map_err(|_| malformed())?;
            let vectors = match r.embeddings {
                up::CohereEmbeddings::Floats(v) | up::CohereEmbeddings::ByType { float: v } => v,
            };
            (vectors, header_tokens)
        }
    };
    embeddings_out::list(vectors, meta.model, reported, shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(
            family("amazon.titan-embed-text-v2:0"),
            Some(Family::TitanV2)
        );
        assert_eq!(family("amazon.titan-embed-text-v1"), Some(Family::Titan));
        assert_eq!(
            family("us.cohere.embed-v4:0"),
            Some(Family::Cohere { v4: true })
        );
        assert_eq!(
            family("arn:aws:bedrock:us-east-1::foundation-model/cohere.embed-english-v3"),
            Some(Family::Cohere { v4: false })
        );
        assert_eq!(family("anthropic.claude-3-haiku"), None);
        assert_eq!(family("us.anthropic.claude-3-haiku"), None);
    }
}
