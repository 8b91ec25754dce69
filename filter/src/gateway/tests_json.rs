//! The client's JSON means to the provider what it meant to the gateway: keys written
//! with escapes, duplicate keys, nesting depth, and OpenAI's own ranges.

use std::fmt;
use std::rc::Rc;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;

fn cfg() -> Rc<Config> {
    let doc = br#"{
      "providers": [
        {"name":"oa","kind":"openai","cluster":"oa_c","api_key_env":"OA"},
        {"name":"an","kind":"anthropic","cluster":"an_c","api_key_env":"AN"},
        {"name":"az","kind":"azure","cluster":"az_c","host":"r.openai.azure.com","api_key_env":"AZ"}
      ],
      "models": [
        {"name":"gpt","targets":[{"provider":"oa","model":"gpt-4o"}]},
        {"name":"claude","targets":[{"provider":"an","model":"claude-x"}]},
        {"name":"azgpt","targets":[{"provider":"az","model":"dep1"}]},
        {"name":"emb","targets":[{"provider":"oa","model":"text-embedding-3-small"}]}
      ]
    }"#;
    let env = |k: &str| Some(format!("sk-{}", k.to_lowercase()));
    Rc::new(parse(doc, &env).unwrap())
}

/// Runs the request side of `body` on `path`: the host after it and the body action.
fn send(path: &str, body: &str) -> (FakeHost, Action) {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", path),
        ("x-api-key", "client-key"),
    ]);
    h.request_body = body.as_bytes().to_vec();
    let mut x = Exchange::new(cfg(), Default::default());
    assert_eq!(x.on_request_headers(&mut h, false), Action::Pause);
    let n = h.request_body.len();
    let a = x.on_request_body(&mut h, n, true);
    (h, a)
}

/// Top-level keys in order, duplicates kept (a `Value` keeps only the last copy).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(k);
                }
                Ok(Keys(keys))
            }
        }
        d.deserialize_map(V)
    }
}

/// The forwarded body: each of `keys` exactly once, as every parser reads it.
fn forwarded(h: &FakeHost, keys: &[&str]) -> Value {
    assert!(h.local_response.is_none(), "{:?}", h.local_response);
    let all = serde_json::from_slice::<Keys>(&h.request_body).unwrap().0;
    for key in keys {
        let n = all.iter().filter(|k| k == key).count();
        assert_eq!(
            n,
            1,
            "{key} in {}",
            String::from_utf8_lossy(&h.request_body)
        );
    }
    serde_json::from_slice(&h.request_body).unwrap()
}

/// The local reply: status, and the JSON body.
fn refused(h: &FakeHost, a: Action) -> (u16, Value) {
    assert_eq!(a, Action::Pause);
    let r = h.local_response.as_ref().expect("a local reply");
    assert!(h.header("x-llm-cluster").is_none(), "nothing is routed");
    (r.status, serde_json::from_slice(&r.body).unwrap())
}

const MSGS: &str = r#""messages":[{"role":"user","content":"hi"}]"#;

#[test]
fn escaped_stream_options_is_replaced_not_doubled() {
    for model in ["gpt", "azgpt"] {
        let body = format!(
            r#"{{"model":"{model}","stream":true,"stream_\u006fptions":{{"include_usage":false}},{MSGS}}}"#
        );
        let (h, a) = send("/v1/chat/completions", &body);
        assert_eq!(a, Action::Continue);
        let v = forwarded(&h, &["model", "stream_options"]);
        assert_eq!(v["stream_options"]["include_usage"], true, "{model}");
    }
}

#[test]
fn escaped_model_is_rewritten() {
    for (path, body, upstream) in [
        (
            "/v1/chat/completions",
            format!(r#"{{"mod\u0065l":"gpt",{MSGS}}}"#),
            "gpt-4o",
        ),
        (
            "/v1/chat/completions",
            format!(r#"{{"\u006d\u006f\u0064\u0065\u006c":"azgpt","stream":true,{MSGS}}}"#),
            "dep1",
        ),
        (
            "/v1/embeddings",
            r#"{"input":"hi","mod\u0065l":"emb"}"#.to_string(),
            "text-embedding-3-small",
        ),
        (
            "/v1/messages",
            format!(r#"{{"mod\u0065l":"claude","max_tokens":5,{MSGS}}}"#),
            "claude-x",
        ),
    ] {
        let (h, a) = send(path, &body);
        assert_eq!(a, Action::Continue, "{body}");
        let v = forwarded(&h, &["model"]);
        // Azure names the deployment in the path; the body keeps one model member.
        if upstream != "dep1" {
            assert_eq!(v["model"], upstream, "{body}");
        }
    }
}

#[test]
fn duplicate_keys_are_refused_naming_the_key() {
    for (body, param) in [
        (
            format!(r#"{{"model":"gpt","stream":true,"stream_options":{{"include_usage":true}},"stream_\u006fptions":{{"include_usage":false}},{MSGS}}}"#),
            "stream_options",
        ),
        (
            format!(r#"{{"model":"gpt","mod\u0065l":"claude",{MSGS}}}"#),
            "model",
        ),
        (
            format!(r#"{{"model":"gpt","max_tokens":5,"max_tok\u0065ns":100000,{MSGS}}}"#),
            "max_tokens",
        ),
        (
            r#"{"model":"gpt","messages":[{"role":"user","content":"hi","c\u006fntent":"a much longer prompt"}]}"#.to_string(),
            "content",
        ),
        (
            format!(r#"{{"model":"gpt","stream":true,"stream_options":{{"include_usage":true,"include_\u0075sage":false}},{MSGS}}}"#),
            "include_usage",
        ),
        (
            format!(r#"{{"model":"gpt","tools":[{{"type":"function","function":{{"name":"f"}}}}],"tool_choice":{{"type":"function","function":{{"name":"f","n\u0061me":"g"}}}},{MSGS}}}"#),
            "name",
        ),
    ] {
        let (h, a) = send("/v1/chat/completions", &body);
        let (status, v) = refused(&h, a);
        assert_eq!(status, 400, "{body}");
        assert_eq!(v["error"]["param"], param, "{body}");
        assert_eq!(v["error"]["type"], "invalid_request_error", "{body}");
    }
    for (path, body) in [
        (
            "/v1/embeddings",
            r#"{"model":"emb","input":"a","inp\u0075t":"b"}"#.to_string(),
        ),
        (
            "/v1/messages",
            format!(r#"{{"model":"claude","max_tokens":5,"max_tok\u0065ns":9,{MSGS}}}"#),
        ),
    ] {
        let (h, a) = send(path, &body);
        let (status, v) = refused(&h, a);
        assert_eq!(status, 400, "{body}");
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("duplicate field"), "{v}");
    }
}

/// `depth` arrays inside one another around `1`.
fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_nesting_anywhere_is_refused() {
    let deep = nested(10_000);
    for (path, body) in [
        (
            "/v1/chat/completions",
            format!(r#"{{"model":"gpt","x_unread":{deep},{MSGS}}}"#),
        ),
        (
            "/v1/chat/completions",
            format!(
                r#"{{"model":"gpt","tools":[{{"type":"function","function":{{"name":"f","parameters":{{"a":{deep}}}}}}}],{MSGS}}}"#
            ),
        ),
        (
            "/v1/embeddings",
            format!(r#"{{"model":"emb","input":"a","x":{deep}}}"#),
        ),
        (
            "/v1/messages",
            format!(r#"{{"model":"claude","max_tokens":5,"x":{deep},{MSGS}}}"#),
        ),
    ] {
        let (h, a) = send(path, &body);
        let (status, v) = refused(&h, a);
        assert_eq!(status, 400, "{path}");
        if path == "/v1/messages" {
            assert_eq!(v["type"], "error", "Anthropic's shape");
        }
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains("128"), "{msg}");
    }
    // Up to the limit, unread values still go through untouched.
    let body = format!(r#"{{"model":"gpt","x_unread":{},{MSGS}}}"#, nested(120));
    let (h, a) = send("/v1/chat/completions", &body);
    assert_eq!(a, Action::Continue);
    forwarded(&h, &["model"]);
    assert!(String::from_utf8_lossy(&h.request_body).contains(&nested(120)));
}

#[test]
fn openai_ranges_are_refused_before_routing() {
    let tools = r#""tools":[{"type":"function","function":{"name":"get_weather"}}]"#;
    for (extra, param) in [
        (r#""temperature":2.5"#.to_string(), "temperature"),
        (r#""temperature":-1"#.to_string(), "temperature"),
        (r#""top_p":1.1"#.to_string(), "top_p"),
        (r#""n":0"#.to_string(), "n"),
        (
            format!(r#"{tools},"tool_choice":{{"type":"function","function":{{"name":"rm_rf"}}}}"#),
            "tool_choice",
        ),
    ] {
        let body = format!(r#"{{"model":"gpt",{extra},{MSGS}}}"#);
        let (h, a) = send("/v1/chat/completions", &body);
        let (status, v) = refused(&h, a);
        assert_eq!(status, 400, "{body}");
        assert_eq!(v["error"]["param"], param, "{body}");
    }
    let body = format!(
        r#"{{"model":"gpt","temperature":2,"top_p":1,"n":1,{tools},"tool_choice":{{"type":"function","function":{{"name":"get_weather"}}}},{MSGS}}}"#
    );
    let (h, a) = send("/v1/chat/completions", &body);
    assert_eq!(a, Action::Continue);
    forwarded(&h, &["model"]);
}
