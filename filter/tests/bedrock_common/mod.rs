//! Shared by the Bedrock golden and botocore tests: the provider set and fixed clock.
#![allow(dead_code)]

use llm_gateway::config::{self, Config, Provider};
use serde_json::Value;

pub const CREATED: u64 = 1_700_000_000;
/// 2023-11-14T22:13:20Z
pub const NOW_MS: u64 = 1_700_000_000_000;
pub const DEFAULT_MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";

/// The documented example credentials of AWS's SigV4 test suite.
pub fn env(k: &str) -> Option<String> {
    Some(
        match k {
            "AK" => "AKIDEXAMPLE",
            "SK" => "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "ST" => "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
            "BK" => "ABSKQmVkcm9ja0FQSUtleS1FWEFNUExF",
            _ => return None,
        }
        .to_string(),
    )
}

pub fn golden_config() -> Config {
    config::parse(
        br#"{"providers":[
            {"name":"br","kind":"bedrock","cluster":"c","region":"us-east-1",
             "access_key_id_env":"AK","secret_access_key_env":"SK","session_token_env":"ST"},
            {"name":"br_keys","kind":"bedrock","cluster":"c","region":"us-west-2",
             "access_key_id_env":"AK","secret_access_key_env":"SK"},
            {"name":"br_bearer","kind":"bedrock","cluster":"c","region":"us-east-1","api_key_env":"BK"},
            {"name":"br_custom","kind":"bedrock","cluster":"c","region":"eu-west-1",
             "host":"vpce-0a1b2c3d.bedrock-runtime.eu-west-1.vpce.amazonaws.com:8443",
             "base_path":"/proxy/","access_key_id_env":"AK","secret_access_key_env":"SK"}],
          "allow_provider_model":true}"#,
        &env,
    )
    .unwrap()
}

pub fn provider<'a>(cfg: &'a Config, doc: &Value) -> &'a Provider {
    let name = doc["provider"].as_str().unwrap_or("br");
    &cfg.providers[cfg.provider_index(name).unwrap()]
}
