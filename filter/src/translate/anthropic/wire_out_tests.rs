#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::value::RawValue;

use super::*;
use crate::api::text::{Text, TextOut};
use crate::translate::anthropic::wire::{ImageSource, Metadata, ThinkingConfig, Tool, ToolChoice};

fn text(lit: &str) -> Text {
    Text::from_raw(RawValue::from_string(lit.to_string()).unwrap()).unwrap()
}

fn raw(json: &str) -> Box<RawValue> {
    RawValue::from_string(json.to_string()).unwrap()
}

fn same(r: &MessagesRequest<'_>) {
    let mut ours = Vec::new();
    r.write_json(&mut ours).unwrap();
    let theirs = serde_json::to_vec(r).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    assert_eq!(ours, theirs);
}

fn base<'a>(messages: Vec<Message<'a>>) -> MessagesRequest<'a> {
    MessagesRequest {
        model: Some("claude-sonnet-4"),
        anthropic_version: None,
        messages,
        system: None,
        max_tokens: 1024,
        stop_sequences: None,
        temperature: None,
        top_p: None,
        tools: None,
        tool_choice: None,
        metadata: None,
        stream: None,
        thinking: None,
    }
}

const STRINGS: &[&str] = &[
    "",
    "plain",
    "quote \" back\\slash \n\r\t\u{8}\u{c} \u{1} \u{1f} / \u{7f}",
    "é 中文 😀👍🏽",
];

#[test]
fn every_block_kind() {
    let hello = text(r#""Hello, \"world\" \u00e9 \ud83d\ude00\n""#);
    let empty = text(r#""""#);
    let input = raw(r#"{"city": "Paris", "n": [1, 2.5e3]}"#);
    let blocks = || {
        vec![
            Block::Text { text: &hello },
            Block::Text { text: &empty },
            Block::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png",
                    data: "iVBORw0KGgo=",
                },
            },
            Block::Image {
                source: ImageSource::Url {
                    url: "https://example.com/a.png?x=\"y\"",
                },
            },
            Block::ToolUse {
                id: "toolu_1",
                name: "get_weather",
                input: &input,
            },
            Block::ToolResult {
                tool_use_id: "toolu_1",
                content: vec![Block::Text { text: &hello }],
            },
            Block::ToolResult {
                tool_use_id: "toolu_2",
                content: Vec::new(),
            },
        ]
    };
    // Each block alone, all together, and none, for both roles.
    for role in [Role::User, Role::Assistant] {
        let n = blocks().len();
        for k in 0..n {
            let one = blocks().into_iter().nth(k).unwrap();
            same(&base(vec![Message {
                role,
                content: vec![one],
            }]));
        }
        same(&base(vec![Message {
            role,
            content: blocks(),
        }]));
        same(&base(vec![Message {
            role,
            content: Vec::new(),
        }]));
    }
    same(&base(Vec::new()));
    same(&base(vec![
        Message {
            role: Role::User,
            content: blocks(),
        },
        Message {
            role: Role::Assistant,
            content: vec![Block::Text { text: &hello }],
        },
        Message {
            role: Role::User,
            content: vec![Block::Text { text: &empty }],
        },
    ]));
}

#[test]
fn every_optional_field() {
    let hello = text(r#""hi""#);
    let system_lit = text(r#""Be brief.\nReally.""#);
    let schema = raw(r#"{"type":"object","properties":{}}"#);
    let msgs = || {
        vec![Message {
            role: Role::User,
            content: vec![Block::Text { text: &hello }],
        }]
    };
    // Bit k of `mask` sets optional field k: every combination of the thirteen fields'
    // presence would be 8192 cases, so each field is toggled alone and all together.
    let masks: Vec<u32> = (0..12).map(|k| 1 << k).chain([0, 0xfff]).collect();
    for s in STRINGS {
        for mask in &masks {
            let on = |k: u32| mask & (1 << k) != 0;
            let mut r = base(msgs());
            r.model = on(0).then_some(*s);
            r.anthropic_version = on(1).then_some("vertex-2023-10-16");
            r.system = on(2).then_some(TextOut::Str(s));
            r.stop_sequences = on(3).then(|| vec![s.to_string(), "\n\nHuman:".to_string()]);
            r.temperature = on(4).then_some(0.7);
            r.top_p = on(5).then_some(1.0);
            r.tools = on(6).then(|| {
                vec![
                    Tool {
                        name: "get_weather",
                        description: Some(s),
                        input_schema: &schema,
                    },
                    Tool {
                        name: "noop",
                        description: None,
                        input_schema: &schema,
                    },
                ]
            });
            r.tool_choice = on(7).then_some(ToolChoice::Auto {
                disable_parallel_tool_use: None,
            });
            r.metadata = on(8).then_some(Metadata { user_id: s });
            r.stream = on(9).then_some(true);
            r.thinking = on(10).then_some(ThinkingConfig {
                kind: "enabled",
                budget_tokens: 2048,
            });
            if on(11) {
                r.system = Some(TextOut::Json(&system_lit));
                r.max_tokens = u32::MAX;
            }
            same(&r);
        }
    }
}

#[test]
fn options_values() {
    let hello = text(r#""hi""#);
    let msgs = || {
        vec![Message {
            role: Role::User,
            content: vec![Block::Text { text: &hello }],
        }]
    };
    let floats = [
        0.0,
        -0.0,
        0.7,
        1.0,
        1e-7,
        123456.789,
        2.0e20,
        f64::NAN,
        f64::INFINITY,
    ];
    for x in floats {
        let mut r = base(msgs());
        r.temperature = Some(x);
        r.top_p = Some(x);
        same(&r);
    }
    for max in [0, 1, 4096, u32::MAX] {
        let mut r = base(msgs());
        r.max_tokens = max;
        same(&r);
    }
    for stream in [None, Some(false), Some(true)] {
        let mut r = base(msgs());
        r.stream = stream;
        same(&r);
    }
    for stops in [Vec::new(), vec![String::new()], vec!["a\"b".to_string(); 3]] {
        let mut r = base(msgs());
        r.stop_sequences = Some(stops);
        same(&r);
    }
    let choices = [
        ToolChoice::Auto {
            disable_parallel_tool_use: Some(true),
        },
        ToolChoice::Any {
            disable_parallel_tool_use: None,
        },
        ToolChoice::Tool {
            name: "json_answer",
            disable_parallel_tool_use: Some(false),
        },
        ToolChoice::None,
    ];
    for c in choices {
        let mut r = base(msgs());
        r.tool_choice = Some(c);
        same(&r);
    }
    for s in STRINGS {
        let mut r = base(msgs());
        r.system = Some(TextOut::Owned(s.to_string()));
        r.model = None;
        r.anthropic_version = Some(s);
        same(&r);
    }
}
