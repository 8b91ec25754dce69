#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::value::RawValue;

use super::super::openai::{CompletionTokensDetails, FunctionOut, PromptTokensDetails};
use super::super::text::Text;
use super::*;

fn text(lit: &str) -> Text {
    Text::from_raw(RawValue::from_string(lit.to_string()).unwrap()).unwrap()
}

fn same(r: &ChatResponse<'_>) {
    let mut ours = Vec::new();
    r.write_json(&mut ours);
    let theirs = serde_json::to_vec(r).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(&theirs)
    );
    assert_eq!(ours, theirs);
}

const STRINGS: &[&str] = &[
    "",
    "plain",
    "quote \" back\\slash \n\r\t\u{8}\u{c} \u{1} \u{1f} / \u{7f}",
    "é 中文 😀👍🏽",
];

fn calls<'a>(id: &'a str, args: &'a str) -> Vec<ToolCallOut<'a>> {
    vec![
        ToolCallOut {
            id,
            kind: "function",
            function: FunctionOut {
                name: "get_weather",
                arguments: args,
            },
        },
        ToolCallOut {
            id: "call_2",
            kind: "function",
            function: FunctionOut {
                name: id,
                arguments: "{}",
            },
        },
    ]
}

#[test]
fn every_message_shape() {
    let literals = [
        text(r#""""#),
        text(r#""Hello!""#),
        text(r#""a\nb \"q\" \u00e9 \ud83d\ude00 \/""#),
    ];
    for s in STRINGS {
        let mut contents: Vec<Option<TextOut<'_>>> = vec![
            None,
            Some(TextOut::Str(s)),
            Some(TextOut::Owned(s.to_string())),
        ];
        contents.extend(literals.iter().map(|t| Some(TextOut::Json(t))));
        for content in contents {
            for reasoning in [None, Some(s.to_string())] {
                for tools in 0..3 {
                    for finish in [None, Some("stop"), Some(*s)] {
                        let tool_calls = match tools {
                            0 => None,
                            1 => Some(Vec::new()),
                            _ => Some(calls(s, r#"{"city":"Paris","n":[1,2]}"#)),
                        };
                        let content = match &content {
                            None => None,
                            Some(TextOut::Json(t)) => Some(TextOut::Json(t)),
                            Some(TextOut::Str(t)) => Some(TextOut::Str(t)),
                            Some(TextOut::Owned(t)) => Some(TextOut::Owned(t.clone())),
                        };
                        same(&ChatResponse {
                            id: s,
                            object: "chat.completion",
                            created: 1_700_000_000,
                            model: s,
                            choices: vec![Choice {
                                index: 0,
                                message: ResponseMessage {
                                    role: "assistant",
                                    content,
                                    reasoning_content: reasoning.clone(),
                                    tool_calls,
                                },
                                logprobs: None,
                                finish_reason: finish,
                            }],
                            usage: Usage::default(),
                        });
                    }
                }
            }
        }
    }
}

#[test]
fn choices_usage_and_integers() {
    let usages = [
        Usage::default(),
        Usage {
            prompt_tokens: 12,
            completion_tokens: 34,
            total_tokens: 46,
            prompt_tokens_details: None,
            completion_tokens_details: None,
        },
        Usage {
            prompt_tokens: u64::MAX,
            completion_tokens: 1,
            total_tokens: 10_000_000_000,
            prompt_tokens_details: Some(PromptTokensDetails { cached_tokens: 0 }),
            completion_tokens_details: Some(CompletionTokensDetails {
                reasoning_tokens: 1,
            }),
        },
        Usage {
            prompt_tokens: 2048,
            completion_tokens: 0,
            total_tokens: 2048,
            prompt_tokens_details: Some(PromptTokensDetails {
                cached_tokens: 1024,
            }),
            completion_tokens_details: None,
        },
    ];
    let choice = |index: u32| Choice {
        index,
        message: ResponseMessage {
            role: "assistant",
            content: Some(TextOut::Str("hi")),
            reasoning_content: None,
            tool_calls: Some(calls("call_1", "{\"a\":\"b\\n\"}")),
        },
        logprobs: Some(()),
        finish_reason: Some("tool_calls"),
    };
    for usage in usages {
        for n in [0u32, 1, 3] {
            for created in [0, 9, u64::MAX] {
                same(&ChatResponse {
                    id: "chatcmpl-1",
                    object: "chat.completion",
                    created,
                    model: "claude-sonnet-4",
                    choices: (0..n).map(|k| choice(k * 1000 + k)).collect(),
                    usage,
                });
            }
        }
    }
    same(&ChatResponse {
        id: "x",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: vec![choice(u32::MAX)],
        usage: Usage::default(),
    });
}
