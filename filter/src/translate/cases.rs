//! The harness behind each provider's case table (`translate/<p>/cases.rs`): a table
//! names the provider's configuration, its golden data (`filter/testdata/<dir>`, run by
//! `filter/tests/golden*.rs`) and the request fields it cannot honour; [`run`] checks
//! them, and that every header the translator writes is content negotiation or a
//! credential header it declares (the ones an operator can never forward).

use crate::api::openai::ChatRequest;
use crate::config;
use crate::translate::{self, provider};

/// One provider kind's cases.
pub struct Cases {
    /// The provider's object in `providers` (every `*_env` reads "k").
    pub provider: &'static str,
    /// Its golden data: directories under `filter/testdata/`.
    pub golden: &'static [&'static str],
    /// Request → the fields the provider reports it cannot honour, in order
    /// (space-separated).
    pub unhonoured: &'static [(&'static str, &'static str)],
}

/// Every optional field some provider has no place for, set to something that matters.
pub const ALL_OPTIONAL: &str = r#"{"model":"m","messages":[{"role":"user","content":"x"}],
    "seed":1,"frequency_penalty":0.5,"presence_penalty":0.5,"logprobs":true,
    "top_logprobs":2,"logit_bias":{"1":2},"user":"u","parallel_tool_calls":false,
    "response_format":{"type":"json_object"},"reasoning_effort":"low"}"#;
/// Defaults ask for nothing a provider could fail to honour.
pub const DEFAULTS: &str = r#"{"model":"m","messages":[{"role":"user","content":"x"}],
    "frequency_penalty":0,"presence_penalty":0,"logprobs":false,
    "parallel_tool_calls":true,"response_format":{"type":"text"},"temperature":1}"#;
/// Temperature above 1: clamped where the range is [0, 1].
pub const HOT: &str =
    r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5}"#;
/// Hot and thinking: Anthropic takes no temperature at all (reported once).
pub const HOT_THINKING: &str = r#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":1.5,"reasoning_effort":"low"}"#;
/// A blank stop sequence next to a real one.
pub const BLANK_STOP: &str =
    r#"{"model":"m","messages":[{"role":"user","content":"x"}],"stop":["x"," \n"]}"#;

/// Headers any translator may write besides its credentials.
const NEGOTIATION: &[&str] = &["content-type", "accept"];

#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
pub fn run(cases: &Cases) {
    let doc = format!(
        r#"{{"providers":[{}],"allow_provider_model":true}}"#,
        cases.provider
    );
    let cfg = config::parse(doc.as_bytes(), &|_| Some("k".to_string())).unwrap();
    let p = &cfg.providers[0];
    for dir in cases.golden {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(dir);
        assert!(path.is_dir(), "{}: no golden data in {path:?}", p.name);
    }
    for (body, want) in cases.unhonoured {
        let req: ChatRequest = serde_json::from_str(body).unwrap();
        let want: Vec<&str> = want.split_whitespace().collect();
        assert_eq!(translate::unhonoured(p, &req), want, "{}: {body}", p.name);
    }
    let raw = br#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#;
    let req: ChatRequest = serde_json::from_slice(raw).unwrap();
    let up = translate::request(p, "m", &req, raw, 0).unwrap();
    let declared = provider::of(p).facts().credentials;
    for (name, _) in &up.headers {
        assert!(
            declared.contains(name) || NEGOTIATION.contains(name),
            "{}: writes {name}, which it does not declare",
            p.name
        );
    }
}
