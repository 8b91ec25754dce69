#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
//! The hand-written visitors against the derived code they replace: same values, same
//! accept/reject decisions.

use serde::Deserialize;

use crate::api::openai::{ImageUrl, Message, ToolCall};

/// The derived definitions the visitors replaced (Debug output names the same variants).
#[allow(dead_code)] // read only through Debug
mod derived {
    use super::{Deserialize, ImageUrl, ToolCall};

    #[derive(Debug, Deserialize)]
    #[serde(tag = "role", rename_all = "lowercase")]
    pub enum Message {
        System {
            content: Content,
        },
        Developer {
            content: Content,
        },
        User {
            content: Content,
        },
        Assistant {
            #[serde(default)]
            content: Option<Content>,
            #[serde(default)]
            tool_calls: Option<Vec<ToolCall>>,
        },
        Tool {
            content: Content,
            tool_call_id: String,
        },
    }

    #[derive(Debug, Deserialize)]
    #[serde(untagged)]
    pub enum Content {
        Text(String),
        Parts(Vec<ContentPart>),
    }

    #[derive(Debug, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum ContentPart {
        Text {
            text: String,
        },
        ImageUrl {
            image_url: ImageUrl,
        },
        #[serde(other)]
        Unsupported,
    }
}

const CASES: &[&str] = &[
    r#"{"role":"user","content":"hi"}"#,
    r#"{"content":"hi","role":"user"}"#,
    r#"{"role":"system","content":"a\nb \"q\" \u00e9 \ud83d\ude00"}"#,
    r#"{"role":"developer","content":[{"type":"text","text":"d"}]}"#,
    r#"{"role":"user","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"u","detail":"low"}}]}"#,
    r#"{"role":"user","content":[{"text":"x","type":"text"},{"image_url":{"url":"u"},"type":"image_url"}]}"#,
    r#"{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"x"}}]}"#,
    r#"{"role":"user","content":[{"type":"refusal","text":5}]}"#,
    r#"{"role":"user","content":[{"text":5,"type":"image_url","image_url":{"url":"u"}}]}"#,
    r#"{"role":"user","content":[{"type":"text"}]}"#,
    r#"{"role":"user","content":[{"type":"text","text":1}]}"#,
    r#"{"role":"user","content":[{"type":1,"text":"x"}]}"#,
    r#"{"role":"user","content":[{"text":"x"}]}"#,
    r#"{"role":"user","content":[]}"#,
    r#"{"role":"user","content":null}"#,
    r#"{"role":"user","content":5}"#,
    r#"{"role":"user","content":{"a":1}}"#,
    r#"{"role":"user"}"#,
    r#"{"content":"x"}"#,
    r#"{"role":"robot","content":"x"}"#,
    r#"{"role":5,"content":"x"}"#,
    r#"{"role":"user","content":"x","extra":[1,{"a":null}],"name":"n"}"#,
    r#"{"role":"user","content":"x","tool_calls":"junk","tool_call_id":7}"#,
    r#"{"tool_calls":"junk","role":"user","content":"x"}"#,
    r#"{"role":"assistant"}"#,
    r#"{"role":"assistant","content":null}"#,
    r#"{"role":"assistant","content":"a","tool_calls":null}"#,
    r#"{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]}"#,
    r#"{"tool_calls":[{"id":"1","function":{"name":"f","arguments":"{}"}}],"role":"assistant"}"#,
    r#"{"role":"assistant","tool_calls":[{"id":"1"}]}"#,
    r#"{"role":"assistant","tool_calls":"junk"}"#,
    r#"{"role":"tool","content":"r","tool_call_id":"1"}"#,
    r#"{"tool_call_id":"1","content":"r","role":"tool"}"#,
    r#"{"role":"tool","content":"r"}"#,
    r#"{"role":"tool","content":"r","tool_call_id":1}"#,
    r#"{"tool_call_id":1,"role":"tool","content":"r"}"#,
    r#"{"role":"user","role":"user","content":"x"}"#,
    r#"{"role":"user","content":"x","content":"y"}"#,
    r#"{"role":"user","content":"bad \ud800 surrogate"}"#,
    r#"{"role":"user","content":[{"type":"text","text":"x","text":"y"}]}"#,
    r#""user""#,
    r#"[]"#,
    r#"null"#,
    r#"{"role":"user","content":"x""#,
    r#"{"role":"user","content":[{"type":"text","text":"x"}"#,
];

#[test]
fn hand_written_visitors_agree_with_the_derived_code() {
    for case in CASES {
        let ours = serde_json::from_str::<Message>(case);
        let theirs = serde_json::from_str::<derived::Message>(case);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{case}"),
            // A lone surrogate is found after the literal is read: a data error, not syntax.
            (Err(_), Err(_)) if case.contains(r"\ud800") => {}
            (Err(a), Err(b)) => assert_eq!(a.classify(), b.classify(), "{case}: {a} / {b}"),
            _ => panic!("{case}: ours {ours:?}, derived {theirs:?}"),
        }
    }
}

#[test]
fn errors_name_the_problem() {
    let err = |s: &str| serde_json::from_str::<Message>(s).unwrap_err().to_string();
    assert!(err(r#"{"content":"x"}"#).starts_with("missing field `role`"));
    assert!(err(r#"{"role":"robot","content":"x"}"#).starts_with("unknown variant `robot`"));
    assert!(err(r#"{"role":"tool","content":"x"}"#).starts_with("missing field `tool_call_id`"));
    assert!(err(r#"{"role":"user"}"#).starts_with("missing field `content`"));
    assert!(err(r#"{"role":"user","content":null}"#).starts_with("data did not match"));
}
