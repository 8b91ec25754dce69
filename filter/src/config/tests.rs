use super::presets::Preset;
use super::settings::{DEFAULT_MAX_BODY, DEFAULT_ROUTE_HEADER};
use super::{parse, Config, ConfigError, ProviderKind};
use crate::translate::anthropic::settings::{DEFAULT_ANTHROPIC_VERSION, DEFAULT_MAX_TOKENS};
use crate::translate::azure::settings::{AzureAuth, DEFAULT_AZURE_API_VERSION};

fn env(k: &str) -> Option<String> {
    match k {
        "KEY" => Some("sk-secret".into()),
        "BAD" => Some("a\nb".into()),
        _ => None,
    }
}

fn parse_str(s: &str) -> Result<Config, ConfigError> {
    parse(s.as_bytes(), &env)
}

const GOOD: &str = r#"{
  "providers": [
    {"name":"oa","kind":"openai","cluster":"c1","api_key_env":"KEY"},
    {"name":"an","kind":"anthropic","cluster":"c2","host":"api.anthropic.com","base_path":"/v1/"}
  ],
  "models": [{"name":"m","targets":[{"provider":"oa","model":"gpt","weight":3},{"provider":"an","model":"claude"}]}]
}"#;

#[test]
fn good_config_with_defaults() {
    let c = parse_str(GOOD).unwrap();
    assert_eq!(c.providers.len(), 2);
    assert_eq!(c.providers[1].base_path, "/v1");
    assert_eq!(
        c.providers[0].api_key.as_ref().unwrap().expose(),
        "sk-secret"
    );
    assert_eq!(c.models["m"].targets[1].weight, 1);
    assert_eq!(c.route_header, DEFAULT_ROUTE_HEADER);
    assert_eq!(c.max_body_bytes, DEFAULT_MAX_BODY);
    match &c.providers[1].kind {
        ProviderKind::Anthropic(a) => {
            assert_eq!(a.version, DEFAULT_ANTHROPIC_VERSION);
            assert_eq!(a.default_max_tokens, DEFAULT_MAX_TOKENS);
        }
        other => panic!("{other:?}"),
    }
    assert!(!format!("{c:?}").contains("sk-secret"));
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (r#"{"providers":[]}"#, "providers"),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","colour":1}]}"#,
            "providers[0]",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"nope","cluster":"c"}]}"#,
            "providers[0].kind",
        ),
        (
            r#"{"providers":[{"name":"a b","kind":"openai","cluster":"c"}],"allow_provider_model":true}"#,
            "providers[0].name",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"MISSING"}],"allow_provider_model":true}"#,
            "providers[0].api_key_env",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"BAD"}],"allow_provider_model":true}"#,
            "providers[0].api_key_env",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"},{"name":"a","kind":"openai","cluster":"d"}],"allow_provider_model":true}"#,
            "providers[1].name",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"zz","model":"x"}]}]}"#,
            "models[0].targets[0].provider",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x","weight":0}]}]}"#,
            "models[0].targets",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[]}]}"#,
            "models[0].targets",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}]}"#,
            "models",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"allow_provider_model":true,"health":{"failure_threshold":0}}"#,
            "health.failure_threshold",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"anthropic","cluster":"c","default_max_tokens":0}],"allow_provider_model":true}"#,
            "providers[0].default_max_tokens",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","base_path":"v1"}],"allow_provider_model":true}"#,
            "providers[0].base_path",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"allow_provider_model":true,"route_header":"X Bad"}"#,
            "route_header",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","preset":"nope"}],"allow_provider_model":true}"#,
            "providers[0].preset",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"azure","cluster":"c","host":"h","api_version":"2024 10"}],"allow_provider_model":true}"#,
            "providers[0].api_version",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"azure","cluster":"c","host":"h","auth":"magic"}],"allow_provider_model":true}"#,
            "providers[0].auth",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"azure","cluster":"c"}],"allow_provider_model":true}"#,
            "providers[0]",
        ),
        ("not json", "(document)"),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x","weight":-1}]}]}"#,
            "models[0].targets[0].weight",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x"}]}],"prices":[{"model":"y","input":1,"output":1}]}"#,
            "prices[model=\"y\"]",
        ),
        (
            r#"{"providers":[{"name":"a","kind":"openai","cluster":"c"}],"models":[{"name":"m","targets":[{"provider":"a","model":"x"}]}],"prices":[{"model":"zz/x","input":1,"output":1}]}"#,
            "prices[model=\"zz/x\"]",
        ),
    ];
    for (doc, field) in cases {
        let e = parse_str(doc).expect_err(doc);
        assert_eq!(e.field, field, "{doc}: {e}");
    }
}

/// A budget must apply to every upstream its key can reach.
#[test]
fn budgets_need_prices() {
    let doc = |prices: &str, key: &str, apm: bool| {
        format!(
            r#"{{"providers":[{{"name":"a","kind":"openai","cluster":"c"}}],
            "models":[{{"name":"m","targets":[{{"provider":"a","model":"x"}}]}},
                      {{"name":"n","targets":[{{"provider":"a","model":"y"}}]}}],
            "allow_provider_model":{apm},
            "prices":[{prices}],
            "access":{{"teams":[{{"name":"t","budget_usd":5}}],"keys":[{key}]}}}}"#
        )
    };
    let sha = "0".repeat(64);
    let x = r#"{"model":"x","input":1,"output":1}"#;
    let y0 = r#"{"model":"a/y","input":0,"output":0}"#;
    let own = format!(r#"{{"name":"k","sha256":"{sha}","budget_usd":1}}"#);
    let via_team = format!(r#"{{"name":"k","sha256":"{sha}","team":"t","models":["n"]}}"#);
    let listed = format!(r#"{{"name":"k","sha256":"{sha}","budget_usd":1,"models":["m"]}}"#);
    let no_budget = format!(r#"{{"name":"k","sha256":"{sha}"}}"#);
    let cases = [
        (doc(x, &own, false), Some("access.keys[0].budget_usd")), // n (y) unpriced
        (doc(&format!("{x},{y0}"), &own, false), None),           // 0 is a price
        (doc(x, &via_team, false), Some("access.keys[0].team")),  // team budget, n
        (doc(x, &listed, false), None),                           // only m, priced
        (
            doc(&format!("{x},{y0}"), &own, true),
            Some("access.keys[0].models"),
        ),
        (doc(x, &no_budget, true), None),
    ];
    for (d, want) in cases {
        let got = parse_str(&d).err().map(|e| e.field);
        assert_eq!(got.as_deref(), want, "{d}");
    }
}

#[test]
fn presets_fill_defaults_and_azure_settings() {
    let c = parse_str(
        r#"{"providers":[
          {"name":"g","kind":"openai","cluster":"c","preset":"groq"},
          {"name":"o","kind":"openai","cluster":"c","preset":"ollama","base_path":"/api/v1"},
          {"name":"z","kind":"azure","cluster":"c","host":"r.openai.azure.com","auth":"bearer"}
        ],"allow_provider_model":true,"strict":true}"#,
    )
    .unwrap();
    assert!(c.strict);
    assert_eq!(c.providers[0].host.as_deref(), Some("api.groq.com"));
    assert_eq!(c.providers[0].base_path, "/openai/v1");
    assert_eq!(c.providers[0].preset, Some(Preset::Groq));
    assert_eq!(c.providers[1].host, None);
    assert_eq!(c.providers[1].base_path, "/api/v1");
    assert_eq!(c.providers[2].base_path, "/openai");
    match &c.providers[2].kind {
        ProviderKind::Azure(a) => {
            assert_eq!(a.api_version, DEFAULT_AZURE_API_VERSION);
            assert_eq!(a.auth, AzureAuth::Bearer);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn missing_secret_error_does_not_echo_values() {
    let e = parse_str(r#"{"providers":[{"name":"a","kind":"openai","cluster":"c","api_key_env":"BAD"}],"allow_provider_model":true}"#).unwrap_err();
    assert!(!e.to_string().contains("a\nb"));
}

#[test]
fn bedrock_providers() {
    let env = |k: &str| match k {
        "AK" => Some("AKID".to_string()),
        "SK" => Some("aws-secret".to_string()),
        "ST" => Some("aws-token".to_string()),
        "BK" => Some("bedrock-key".to_string()),
        _ => None,
    };
    let doc = r#"{"providers":[
        {"name":"b1","kind":"bedrock","cluster":"c","region":"eu-west-3",
         "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"},
        {"name":"b2","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK",
         "host":"proxy.internal:8080","base_path":"/bedrock/"}],
        "allow_provider_model":true}"#;
    let c = parse(doc.as_bytes(), &env).unwrap();
    assert_eq!(
        c.providers[0].host.as_deref(),
        Some("bedrock-runtime.eu-west-3.amazonaws.com")
    );
    assert_eq!(c.providers[0].base_path, "");
    assert_eq!(c.providers[1].base_path, "/bedrock");
    match (&c.providers[0].kind, &c.providers[1].kind) {
        (ProviderKind::Bedrock(a), ProviderKind::Bedrock(b)) => {
            let creds = a.credentials.as_ref().unwrap();
            assert_eq!(creds.access_key_id.expose(), "AKID");
            assert_eq!(creds.session_token.as_ref().unwrap().expose(), "aws-token");
            assert!(b.credentials.is_none());
            assert_eq!(
                c.providers[1].api_key.as_ref().unwrap().expose(),
                "bedrock-key"
            );
        }
        other => panic!("{other:?}"),
    }
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("aws-secret") && !dbg.contains("aws-token") && !dbg.contains("AKID"));

    let bad = [
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"US_EAST","access_key_id_env":"AK","secret_access_key_env":"SK"}"#,
            "providers[0].region",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1"}"#,
            "providers[0].access_key_id_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK"}"#,
            "providers[0].secret_access_key_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"SK","api_key_env":"BK"}"#,
            "providers[0].api_key_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK","session_token_env":"ST"}"#,
            "providers[0].api_key_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"NOPE"}"#,
            "providers[0].secret_access_key_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"NOPE"}"#,
            "providers[0].session_token_env",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c"}"#,
            "providers[0]",
        ),
        (
            r#"{"name":"b","kind":"bedrock","cluster":"c","region":"us-east-1","version":"x"}"#,
            "providers[0]",
        ),
    ];
    provider_errors_name_the_field(&env, &bad);
}

/// Each provider object, alone in a document, is refused with an error naming `field`.
pub(crate) fn provider_errors_name_the_field(
    env: &dyn Fn(&str) -> Option<String>,
    cases: &[(&str, &str)],
) {
    for (provider, field) in cases {
        let doc = format!(r#"{{"providers":[{provider}],"allow_provider_model":true}}"#);
        let e = parse(doc.as_bytes(), env).expect_err(provider);
        assert_eq!(e.field, *field, "{provider}: {e}");
    }
}
