//! The OpenAI embeddings list the gateway answers for providers with another format,
//! and what building it needs to know about the request.

use super::ResponseOut;
use crate::api::embeddings::{EmbeddingOut, EmbeddingsList, EmbeddingsRequest, UsageOut, Vector};
use crate::codec::base64;
use crate::error::GatewayError;
use crate::usage::{estimate, TokenUsage};

/// What translating the answer needs to know about the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// `encoding_format: "base64"`: vectors as base64 of little-endian f32.
    pub base64: bool,
    /// Number of inputs: the answer must carry as many vectors.
    pub inputs: usize,
    /// Estimated input tokens, reported when the provider reports none.
    pub estimate: u64,
}

impl Shape {
    pub fn of(req: &EmbeddingsRequest) -> Shape {
        Shape {
            base64: req.encoding_format.as_deref() == Some("base64"),
            inputs: req.input.len(),
            estimate: estimate::embedding_tokens(req),
        }
    }
}

/// `reported`: input tokens the provider reported; `None` puts the estimate in the
/// answer and leaves the usage unknown, so the request is accounted as estimated.
pub fn list(
    vectors: Vec<Vec<f64>>,
    model: &str,
    reported: Option<u64>,
    shape: &Shape,
) -> Result<ResponseOut, GatewayError> {
    if vectors.len() != shape.inputs {
        return Err(GatewayError::bad_gateway(format!(
            "upstream returned {} embeddings for {} inputs",
            vectors.len(),
            shape.inputs
        )));
    }
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, v)| EmbeddingOut {
            object: "embedding",
            index,
            embedding: if shape.base64 {
                Vector::Base64(encode_f32(&v))
            } else {
                Vector::Floats(v)
            },
        })
        .collect();
    let tokens = reported.unwrap_or(shape.estimate);
    let out = EmbeddingsList {
        object: "list",
        data,
        model,
        usage: UsageOut {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    };
    let body =
        serde_json::to_vec(&out).map_err(|e| GatewayError::internal(format!("serialise: {e}")))?;
    Ok(ResponseOut {
        finish_reasons: Default::default(),
        body: Some(body),
        usage: TokenUsage {
            prompt: reported,
            // Embeddings produce no completion tokens.
            completion: reported.map(|_| 0),
            cached_prompt: None,
            reasoning: None,
        },
    })
}

/// What OpenAI sends for `encoding_format: "base64"`: the little-endian f32 bytes.
fn encode_f32(v: &[f64]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| (*x as f32).to_le_bytes()).collect();
    base64::encode(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(base64: bool, inputs: usize) -> Shape {
        Shape {
            base64,
            inputs,
            estimate: 7,
        }
    }

    #[test]
    fn floats_base64_usage_and_count() {
        let out = list(vec![vec![0.5, -1.0]], "m", None, &shape(false, 1)).unwrap();
        assert_eq!(
            String::from_utf8(out.body.unwrap()).unwrap(),
            r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-1.0]}],"model":"m","usage":{"prompt_tokens":7,"total_tokens":7}}"#
        );
        assert!(!out.usage.is_known());
        let out = list(vec![vec![1.0], vec![0.0]], "m", Some(3), &shape(true, 2)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.body.unwrap()).unwrap();
        // 1.0f32 = 00 00 80 3f
        assert_eq!(v["data"][0]["embedding"], "AACAPw==");
        assert_eq!(v["data"][1]["index"], 1);
        assert_eq!(v["usage"]["prompt_tokens"], 3);
        assert_eq!(out.usage.prompt, Some(3));
        let e = list(vec![vec![1.0]], "m", None, &shape(false, 2)).unwrap_err();
        assert_eq!(e.status, 502);
    }
}
