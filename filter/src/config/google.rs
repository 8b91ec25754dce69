//! Validation of the Google provider kinds: `gemini` (AI Studio), `vertex` (Gemini on
//! Vertex AI) and `vertex_anthropic` (Claude on Vertex AI).

use super::error::{err, ConfigError};
use super::provider::{Common, ProviderKind, VertexAnthropicSettings, VertexSettings};
use super::raw::{RawGemini, RawVertex, RawVertexAnthropic};
use super::text::header_safe;

pub const GEMINI_HOST: &str = "generativelanguage.googleapis.com";
pub const GEMINI_BASE_PATH: &str = "/v1beta";
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

pub(super) fn gemini(raw: RawGemini) -> (Common, ProviderKind) {
    let RawGemini {
        name,
        cluster,
        host,
        base_path,
        api_key_env,
    } = raw;
    let common = Common {
        name,
        cluster,
        host: host.or_else(|| Some(GEMINI_HOST.to_string())),
        base_path: base_path.or_else(|| Some(GEMINI_BASE_PATH.to_string())),
        api_key_env,
        preset: None,
    };
    (common, ProviderKind::Gemini)
}

pub(super) fn vertex(i: usize, raw: RawVertex) -> Result<(Common, ProviderKind), ConfigError> {
    let RawVertex {
        name,
        cluster,
        host,
        base_path,
        api_key_env,
        project,
        location,
    } = raw;
    let (common, settings) = vertex_common(
        i,
        Common {
            name,
            cluster,
            host,
            base_path,
            api_key_env,
            preset: None,
        },
        project,
        location,
    )?;
    Ok((common, ProviderKind::Vertex(settings)))
}

pub(super) fn vertex_anthropic(
    i: usize,
    raw: RawVertexAnthropic,
) -> Result<(Common, ProviderKind), ConfigError> {
    let RawVertexAnthropic {
        name,
        cluster,
        host,
        base_path,
        api_key_env,
        project,
        location,
        version,
        default_max_tokens,
    } = raw;
    let (common, vertex) = vertex_common(
        i,
        Common {
            name,
            cluster,
            host,
            base_path,
            api_key_env,
            preset: None,
        },
        project,
        location,
    )?;
    let version = version.unwrap_or_else(|| VERTEX_ANTHROPIC_VERSION.to_string());
    if version.is_empty() || !header_safe(&version) {
        return err(
            format!("providers[{i}].version"),
            "must be a non-empty printable string",
        );
    }
    let default_max_tokens = super::provider::default_max_tokens(i, default_max_tokens)?;
    Ok((
        common,
        ProviderKind::VertexAnthropic(VertexAnthropicSettings {
            vertex,
            version,
            default_max_tokens,
        }),
    ))
}

/// Project and location become path segments and (location) the default host.
fn vertex_common(
    i: usize,
    mut common: Common,
    project: String,
    location: String,
) -> Result<(Common, VertexSettings), ConfigError> {
    if !path_segment(&project) {
        return err(
            format!("providers[{i}].project"),
            "must be a Google Cloud project id ([A-Za-z0-9._-])",
        );
    }
    if !path_segment(&location) {
        return err(
            format!("providers[{i}].location"),
            "must be a Vertex AI location such as us-central1 or global",
        );
    }
    if common.host.is_none() {
        common.host = Some(vertex_host(&location));
    }
    Ok((common, VertexSettings { project, location }))
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
    use super::super::{parse, ProviderKind};

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
        assert!(matches!(p[0].kind, ProviderKind::Gemini));
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
        ];
        for (provider, field) in cases {
            let doc = format!(r#"{{"providers":[{provider}],"allow_provider_model":true}}"#);
            let e = parse(doc.as_bytes(), &env).expect_err(provider);
            assert_eq!(e.field, field, "{provider}: {e}");
        }
    }
}
