//! Stream events → Responses API events, for Responses clients of providers that do not
//! serve the Responses API.
//!
//! The sequence the official SDKs parse: `response.created`, `response.in_progress`;
//! per output item `response.output_item.added`, its parts and deltas
//! (`response.content_part.added`, `response.output_text.delta`/`.done`,
//! `response.content_part.done`; `response.function_call_arguments.delta`/`.done`;
//! reasoning summaries), `response.output_item.done`; then `response.completed` (or
//! `response.incomplete`) with the whole output and usage. A failed stream ends in
//! `response.failed`. Every event carries its `sequence_number`.

use std::sync::Arc;

use serde::Serialize;

use super::from_chat::{call_item, envelope, prefixed, response_id, status, usage, Head};
use super::names::ToolNames;
use crate::api::responses::{ErrorOut, ItemOut, OutputTextOut, SummaryOut};
use crate::api::responses_echo::Echo;
use crate::codec::sse_out;
use crate::error::GatewayError;
use crate::translate::blocks::{self, Block, BlockWriter};
use crate::usage::TokenUsage;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Reasoning,
    Message,
    /// A tool call: its provider index, id and (flat) name.
    Call {
        index: u32,
        call_id: String,
        name: String,
        custom: bool,
    },
}

/// One output item as written so far.
#[derive(Debug)]
struct Acc {
    kind: Kind,
    id: String,
    /// Text, reasoning or arguments.
    text: String,
}

/// The [`Writer`] for Responses clients. Choices are not told apart (Responses has one).
#[derive(Debug)]
pub struct ResponsesWriter {
    names: Arc<ToolNames>,
    echo: Arc<Echo>,
    created: u64,
    seq: u64,
    started: bool,
    id: String,
    model: String,
    items: Vec<Acc>,
    /// Index in `items` of the open item.
    open: Option<usize>,
    finish: Option<String>,
    usage: Option<TokenUsage>,
}

#[derive(Serialize)]
struct Ev<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'a str,
    sequence_number: u64,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct ResponseEv<'a> {
    response: crate::api::responses::ResponseOut<'a>,
}

#[derive(Serialize)]
struct ItemEv<'a> {
    output_index: usize,
    item: ItemOut<'a>,
}

#[derive(Serialize)]
struct PartEv<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    part: OutputTextOut<'a>,
}

#[derive(Serialize)]
struct SummaryPartEv<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    part: SummaryOut<'a>,
}

#[derive(Serialize)]
struct TextDeltaEv<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    delta: &'a str,
    logprobs: [(); 0],
}

#[derive(Serialize)]
struct TextDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    content_index: u32,
    text: &'a str,
    logprobs: [(); 0],
}

#[derive(Serialize)]
struct SummaryDeltaEv<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    delta: &'a str,
}

#[derive(Serialize)]
struct SummaryDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    summary_index: u32,
    text: &'a str,
}

#[derive(Serialize)]
struct ArgsDeltaEv<'a> {
    item_id: &'a str,
    output_index: usize,
    delta: &'a str,
}

#[derive(Serialize)]
struct ArgsDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct InputDoneEv<'a> {
    item_id: &'a str,
    output_index: usize,
    input: &'a str,
}

/// An `error` event (a stream that fails before it started: no response to fail).
#[derive(Serialize)]
struct ErrorEv<'a> {
    code: &'a str,
    message: &'a str,
    param: Option<()>,
}

/// Writes one `event:`/`data:` pair.
fn put<T: Serialize>(out: &mut Vec<u8>, seq: &mut u64, kind: &str, body: T) {
    let ev = Ev {
        kind,
        sequence_number: *seq,
        body,
    };
    if sse_out::write_named(out, kind, &ev) {
        *seq += 1;
    }
}

/// A stream that fails before it started, as Responses clients read it.
pub fn write_error(out: &mut Vec<u8>, code: &str, message: &str) {
    let mut seq = 0;
    let body = ErrorEv {
        code,
        message,
        param: None,
    };
    put(out, &mut seq, "error", body);
}

impl ResponsesWriter {
    pub fn new(created: u64, names: Arc<ToolNames>, echo: Arc<Echo>) -> Self {
        ResponsesWriter {
            names,
            echo,
            created,
            seq: 0,
            started: false,
            id: String::new(),
            model: String::new(),
            items: Vec::new(),
            open: None,
            finish: None,
            usage: None,
        }
    }

    fn head(&self) -> Head<'_> {
        Head {
            id: &self.id,
            created: self.created,
            model: &self.model,
            echo: self.echo.fields(),
        }
    }

    fn begin(&mut self, out: &mut Vec<u8>, id: &str, model: &str) {
        if self.started {
            return;
        }
        self.started = true;
        self.id = response_id(id);
        self.model = model.to_string();
        let mut seq = self.seq;
        for kind in ["response.created", "response.in_progress"] {
            let response = envelope(self.head(), "in_progress", None, &[], None, None);
            put(out, &mut seq, kind, ResponseEv { response });
        }
        self.seq = seq;
    }

    /// The item as written so far (`done`: with its final status).
    fn item<'a>(&'a self, acc: &'a Acc, done: bool) -> ItemOut<'a> {
        let status = if done { "completed" } else { "in_progress" };
        match &acc.kind {
            Kind::Reasoning => ItemOut::Reasoning {
                id: acc.id.clone(),
                summary: if done {
                    vec![SummaryOut {
                        kind: "summary_text",
                        text: &acc.text,
                    }]
                } else {
                    Vec::new()
                },
            },
            Kind::Message => ItemOut::Message {
                id: acc.id.clone(),
                status,
                role: "assistant",
                content: if done {
                    vec![OutputTextOut::new(&acc.text)]
                } else {
                    Vec::new()
                },
            },
            Kind::Call { call_id, name, .. } => {
                let args = if done { acc.text.as_str() } else { "" };
                call_item(&self.names, call_id, name, args, status)
            }
        }
    }

    fn open_item(&mut self, out: &mut Vec<u8>, kind: Kind) {
        self.close_item(out);
        let index = self.items.len();
        let bare = self
            .id
            .strip_prefix("resp_")
            .unwrap_or(&self.id)
            .to_string();
        let id = match &kind {
            Kind::Reasoning => prefixed("rs_", &format!("{bare}_{index}")),
            Kind::Message => prefixed("msg_", &format!("{bare}_{index}")),
            Kind::Call {
                call_id, custom, ..
            } => prefixed(if *custom { "ctc_" } else { "fc_" }, call_id),
        };
        self.items.push(Acc {
            kind,
            id,
            text: String::new(),
        });
        self.open = Some(index);
        let Some(acc) = self.items.get(index) else {
            return;
        };
        let mut seq = self.seq;
        let item = self.item(acc, false);
        put(
            out,
            &mut seq,
            "response.output_item.added",
            ItemEv {
                output_index: index,
                item,
            },
        );
        match acc.kind {
            Kind::Message => put(
                out,
                &mut seq,
                "response.content_part.added",
                PartEv {
                    item_id: &acc.id,
                    output_index: index,
                    content_index: 0,
                    part: OutputTextOut::new(""),
                },
            ),
            Kind::Reasoning => put(
                out,
                &mut seq,
                "response.reasoning_summary_part.added",
                SummaryPartEv {
                    item_id: &acc.id,
                    output_index: index,
                    summary_index: 0,
                    part: SummaryOut {
                        kind: "summary_text",
                        text: "",
                    },
                },
            ),
            Kind::Call { .. } => {}
        }
        self.seq = seq;
    }

    /// Appends `delta` to the open item (which must be of `kind`'s sort) and writes it.
    fn append(&mut self, out: &mut Vec<u8>, delta: &str) {
        let Some(index) = self.open else { return };
        let mut seq = self.seq;
        let Some(acc) = self.items.get_mut(index) else {
            return;
        };
        acc.text.push_str(delta);
        let item_id = acc.id.as_str();
        match &acc.kind {
            Kind::Message => put(
                out,
                &mut seq,
                "response.output_text.delta",
                TextDeltaEv {
                    item_id,
                    output_index: index,
                    content_index: 0,
                    delta,
                    logprobs: [],
                },
            ),
            Kind::Reasoning => put(
                out,
                &mut seq,
                "response.reasoning_summary_text.delta",
                SummaryDeltaEv {
                    item_id,
                    output_index: index,
                    summary_index: 0,
                    delta,
                },
            ),
            // A free-form tool's input is inside the JSON arguments: written whole at the end.
            Kind::Call { custom: true, .. } => {}
            Kind::Call { .. } => put(
                out,
                &mut seq,
                "response.function_call_arguments.delta",
                ArgsDeltaEv {
                    item_id,
                    output_index: index,
                    delta,
                },
            ),
        }
        self.seq = seq;
    }

    fn close_item(&mut self, out: &mut Vec<u8>) {
        let Some(index) = self.open.take() else {
            return;
        };
        let Some(acc) = self.items.get(index) else {
            return;
        };
        let mut seq = self.seq;
        let item_id = acc.id.as_str();
        match &acc.kind {
            Kind::Message => {
                put(
                    out,
                    &mut seq,
                    "response.output_text.done",
                    TextDoneEv {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        text: &acc.text,
                        logprobs: [],
                    },
                );
                put(
                    out,
                    &mut seq,
                    "response.content_part.done",
                    PartEv {
                        item_id,
                        output_index: index,
                        content_index: 0,
                        part: OutputTextOut::new(&acc.text),
                    },
                );
            }
            Kind::Reasoning => {
                put(
                    out,
                    &mut seq,
                    "response.reasoning_summary_text.done",
                    SummaryDoneEv {
                        item_id,
                        output_index: index,
                        summary_index: 0,
                        text: &acc.text,
                    },
                );
                put(
                    out,
                    &mut seq,
                    "response.reasoning_summary_part.done",
                    SummaryPartEv {
                        item_id,
                        output_index: index,
                        summary_index: 0,
                        part: SummaryOut {
                            kind: "summary_text",
                            text: &acc.text,
                        },
                    },
                );
            }
            Kind::Call { name, custom, .. } => {
                if *custom {
                    if let ItemOut::CustomToolCall { input, .. } = self.item(acc, true) {
                        for kind in [
                            "response.custom_tool_call_input.delta",
                            "response.custom_tool_call_input.done",
                        ] {
                            let body = InputDoneEv {
                                item_id,
                                output_index: index,
                                input: &input,
                            };
                            put(out, &mut seq, kind, body);
                        }
                    }
                } else {
                    let name = match self.names.back(name) {
                        super::names::Called::Function { name, .. } => name,
                        super::names::Called::Custom { name, .. } => name,
                    };
                    put(
                        out,
                        &mut seq,
                        "response.function_call_arguments.done",
                        ArgsDoneEv {
                            item_id,
                            output_index: index,
                            name,
                            arguments: &acc.text,
                        },
                    );
                }
            }
        }
        let item = self.item(acc, true);
        put(
            out,
            &mut seq,
            "response.output_item.done",
            ItemEv {
                output_index: index,
                item,
            },
        );
        self.seq = seq;
    }

    fn output(&self) -> Vec<ItemOut<'_>> {
        self.items.iter().map(|acc| self.item(acc, true)).collect()
    }

    fn complete(&mut self, out: &mut Vec<u8>) {
        self.begin(out, "", "");
        self.close_item(out);
        let (state, incomplete) = status(self.finish.as_deref());
        let kind = if state == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        let mut seq = self.seq;
        let output = self.output();
        let response = envelope(
            self.head(),
            state,
            incomplete,
            &output,
            Some(usage(self.usage.unwrap_or_default())),
            None,
        );
        put(out, &mut seq, kind, ResponseEv { response });
        self.seq = seq;
    }

    fn fail_with(&mut self, out: &mut Vec<u8>, code: &str, message: &str) {
        self.begin(out, "", "");
        self.close_item(out);
        let mut seq = self.seq;
        let output = self.output();
        let response = envelope(
            self.head(),
            "failed",
            None,
            &output,
            self.usage.map(usage),
            Some(ErrorOut { code, message }),
        );
        put(out, &mut seq, "response.failed", ResponseEv { response });
        self.seq = seq;
    }
}

/// The code of a failed response for the gateway's error kind.
fn code(kind: &str) -> &'static str {
    match kind {
        "rate_limit_error" | "requests" | "tokens" => "rate_limit_exceeded",
        "invalid_request_error" => "invalid_prompt",
        _ => "server_error",
    }
}

impl BlockWriter for ResponsesWriter {
    fn start(&mut self, out: &mut Vec<u8>, id: &str, model: &str) {
        self.begin(out, id, model);
    }

    fn open_kind(&self) -> Option<blocks::Kind> {
        let acc = self.open.and_then(|i| self.items.get(i))?;
        Some(match acc.kind {
            Kind::Reasoning => blocks::Kind::Reasoning,
            Kind::Message => blocks::Kind::Text,
            Kind::Call { index, .. } => blocks::Kind::Call(index),
        })
    }

    fn open(&mut self, out: &mut Vec<u8>, block: Block<'_>) {
        let kind = match block {
            Block::Reasoning => Kind::Reasoning,
            Block::Text => Kind::Message,
            Block::Call { index, id, name } => Kind::Call {
                index,
                call_id: id.to_string(),
                name: name.to_string(),
                custom: self.names.is_custom(name),
            },
        };
        self.open_item(out, kind);
    }

    fn delta(&mut self, out: &mut Vec<u8>, text: &str) {
        self.append(out, text);
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        self.close_item(out);
    }

    fn finished(&mut self, reason: &str) {
        self.finish = Some(reason.to_string());
    }

    fn usage(&mut self, usage: TokenUsage) {
        self.usage = Some(usage);
    }

    fn done(&mut self, out: &mut Vec<u8>) {
        self.complete(out);
    }

    fn fail(&mut self, out: &mut Vec<u8>, e: &GatewayError) {
        self.fail_with(out, code(e.kind), &e.message);
    }
}

/// `response.failed` for a relayed stream that broke.
pub fn write_failed(out: &mut Vec<u8>, head: Head<'_>, seq: u64, message: &str) {
    let mut seq = seq;
    let error = ErrorOut {
        code: "server_error",
        message,
    };
    let response = envelope(head, "failed", None, &[], None, Some(error));
    put(out, &mut seq, "response.failed", ResponseEv { response });
}
