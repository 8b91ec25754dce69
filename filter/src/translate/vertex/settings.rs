//! The Vertex AI kinds' own fields and settings: `vertex` (Gemini on Vertex AI) and
//! `vertex_anthropic` (Claude on Vertex AI, `rawPredict`); both a project/location path
//! and a bearer token.

use serde::Deserialize;

use crate::config::kind::{KindInput, KindSettings};
use crate::config::{err, header_safe, ConfigError, Defaults};
use crate::translate::anthropic::settings::default_max_tokens;

pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVertexAnthropic {
    #[serde(flatten)]
    pub vertex: VertexSettings,
    pub version: Option<String>,
    pub default_max_tokens: Option<u32>,
}

/// As written and as used: both fields are checked, neither has a default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VertexSettings {
    pub project: String,
    pub location: String,
}

#[derive(Debug)]
pub struct VertexAnthropicSettings {
    pub vertex: VertexSettings,
    /// `anthropic_version` sent in the body.
    pub version: String,
    pub default_max_tokens: u32,
}

impl KindSettings for VertexSettings {
    type Raw = VertexSettings;

    fn build(raw: VertexSettings, input: &KindInput<'_>) -> Result<(Self, Defaults), ConfigError> {
        if !path_segment(&raw.project) {
            return err(
                input.field("project"),
                "must be a Google Cloud project id ([A-Za-z0-9._-])",
            );
        }
        if !path_segment(&raw.location) {
            return err(
                input.field("location"),
                "must be a Vertex AI location such as us-central1 or global",
            );
        }
        // Project and location become path segments and (location) the default host.
        let defaults = Defaults {
            host: Some(vertex_host(&raw.location)),
            ..Defaults::default()
        };
        Ok((raw, defaults))
    }
}

impl KindSettings for VertexAnthropicSettings {
    type Raw = RawVertexAnthropic;

    fn build(
        raw: RawVertexAnthropic,
        input: &KindInput<'_>,
    ) -> Result<(Self, Defaults), ConfigError> {
        let RawVertexAnthropic {
            vertex,
            version,
            default_max_tokens: given,
        } = raw;
        let (vertex, defaults) = VertexSettings::build(vertex, input)?;
        let version = version.unwrap_or_else(|| VERTEX_ANTHROPIC_VERSION.to_string());
        if version.is_empty() || !header_safe(&version) {
            return err(
                input.field("version"),
                "must be a non-empty printable string",
            );
        }
        let settings = VertexAnthropicSettings {
            vertex,
            version,
            default_max_tokens: default_max_tokens(input, given)?,
        };
        Ok((settings, defaults))
    }
}

/// `{location}-aiplatform.googleapis.com`, or the global endpoint.
pub fn vertex_host(location: &str) -> String {
    if location == "global" {
        "aiplatform.googleapis.com".to_string()
    } else {
        format!("{location}-aiplatform.googleapis.com")
    }
}

fn path_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use crate::config::tests::provider_errors_name_the_field;
    use crate::config::{parse, ProviderKind};

    fn env(k: &str) -> Option<String> {
        (k == "TOKEN").then(|| "ya29.token".to_string())
    }

    #[test]
    fn defaults() {
        let c = parse(
            br#"{"providers":[
                {"name":"g","kind":"gemini","cluster":"c","api_key_env":"TOKEN"},
                {"name":"v","kind":"vertex","cluster":"c","project":"p-1","location":"europe-west4"},
                {"name":"vg","kind":"vertex","cluster":"c","project":"p","location":"global","base_path":"/v1beta1"},
                {"name":"va","kind":"vertex_anthropic","cluster":"c","project":"p","location":"us-east5","host":"h:8"}
            ],"allow_provider_model":true}"#,
            &env,
        )
        .unwrap();
        let p = &c.providers;
        assert_eq!(
            p[0].host.as_deref(),
            Some("generativelanguage.googleapis.com")
        );
        assert_eq!(p[0].base_path, "/v1beta");
        assert!(matches!(p[0].kind, ProviderKind::Gemini(_)));
        assert_eq!(
            p[1].host.as_deref(),
            Some("europe-west4-aiplatform.googleapis.com")
        );
        assert_eq!(p[1].base_path, "/v1");
        assert_eq!(p[2].host.as_deref(), Some("aiplatform.googleapis.com"));
        assert_eq!(p[2].base_path, "/v1beta1");
        assert_eq!(p[3].host.as_deref(), Some("h:8"));
        match &p[3].kind {
            ProviderKind::VertexAnthropic(s) => {
                assert_eq!(s.version, "vertex-2023-10-16");
                assert_eq!(s.default_max_tokens, 4096);
                assert_eq!(s.vertex.project, "p");
                assert_eq!(s.vertex.location, "us-east5");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                r#"{"kind":"vertex","name":"v","cluster":"c","project":"a/b","location":"l"}"#,
                "providers[0].project",
            ),
            (
                r#"{"kind":"vertex","name":"v","cluster":"c","project":"p","location":"l?x"}"#,
                "providers[0].location",
            ),
            (
                r#"{"kind":"vertex","name":"v","cluster":"c","location":"l"}"#,
                "providers[0]",
            ),
            (
                r#"{"kind":"gemini","name":"g","cluster":"c","project":"p"}"#,
                "providers[0]",
            ),
            (
                r#"{"kind":"vertex_anthropic","name":"v","cluster":"c","project":"p","location":"l","default_max_tokens":0}"#,
                "providers[0].default_max_tokens",
            ),
            (
                r#"{"kind":"vertex_anthropic","name":"v","cluster":"c","project":"p","location":"l","colour":1}"#,
                "providers[0]",
            ),
            (
                r#"{"kind":"vertex_anthropic","name":"v","cluster":"c","location":"l"}"#,
                "providers[0]",
            ),
        ];
        provider_errors_name_the_field(&env, &cases);
    }
}
