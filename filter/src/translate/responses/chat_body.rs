//! The internal chat request written as an OpenAI chat body, for OpenAI-format providers
//! that serve only chat completions (their translator forwards a client's chat body, and
//! a Responses client sent none). Text is written as the literal it holds.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::api::openai::{
    ChatRequest, Content, ContentPart, Message, ResponseFormat, Tool, ToolCall, ToolChoice,
};
use crate::api::text::Text;
use crate::error::GatewayError;

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Vec<MessageOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptionsOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<ToolOut<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoiceOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<FormatOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
}

#[derive(Serialize)]
struct StreamOptionsOut {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum MessageOut<'a> {
    System {
        content: ContentOut<'a>,
    },
    Developer {
        content: ContentOut<'a>,
    },
    User {
        content: ContentOut<'a>,
    },
    Assistant {
        content: Option<ContentOut<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool_calls: Option<Vec<CallOut<'a>>>,
    },
    Tool {
        content: ContentOut<'a>,
        tool_call_id: &'a str,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum ContentOut<'a> {
    Text(&'a Text),
    Parts(Vec<PartOut<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum PartOut<'a> {
    Text { text: &'a Text },
    ImageUrl { image_url: ImageOut<'a> },
}

#[derive(Serialize)]
struct ImageOut<'a> {
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

#[derive(Serialize)]
struct CallOut<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionOut<'a>,
}

#[derive(Serialize)]
struct FunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct ToolOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionDefOut<'a>,
}

#[derive(Serialize)]
struct FunctionDefOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<&'a RawValue>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ToolChoiceOut<'a> {
    Mode(&'a str),
    Named {
        #[serde(rename = "type")]
        kind: &'static str,
        function: NameOut<'a>,
    },
}

#[derive(Serialize)]
struct NameOut<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct FormatOut<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    json_schema: Option<SchemaOut<'a>>,
}

#[derive(Serialize)]
struct SchemaOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

/// `legacy_max_tokens`: the service reads `max_tokens`, not `max_completion_tokens`.
pub fn write(req: &ChatRequest, legacy_max_tokens: bool) -> Result<Vec<u8>, GatewayError> {
    let max = req.max_completion_tokens.or(req.max_tokens);
    let body = Body {
        model: &req.model,
        messages: req.messages.iter().map(message).collect(),
        stream: req.stream,
        stream_options: req
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .map(|include_usage| StreamOptionsOut { include_usage }),
        max_completion_tokens: max.filter(|_| !legacy_max_tokens),
        max_tokens: max.filter(|_| legacy_max_tokens),
        temperature: req.temperature,
        top_p: req.top_p,
        tools: req
            .tools
            .as_ref()
            .map(|tools| tools.iter().map(tool).collect()),
        tool_choice: req.tool_choice.as_ref().map(tool_choice),
        parallel_tool_calls: req.parallel_tool_calls,
        user: req.user.as_deref(),
        response_format: req.response_format.as_ref().map(format),
        reasoning_effort: req.reasoning_effort.as_deref(),
    };
    serde_json::to_vec(&body).map_err(|e| GatewayError::internal(format!("chat body: {e}")))
}

fn content(c: &Content) -> ContentOut<'_> {
    match c {
        Content::Text(t) => ContentOut::Text(t),
        Content::Parts(parts) => ContentOut::Parts(
            parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } => Some(PartOut::Text { text }),
                    ContentPart::ImageUrl { image_url } => Some(PartOut::ImageUrl {
                        image_url: ImageOut {
                            url: &image_url.url,
                            detail: image_url.detail.as_deref(),
                        },
                    }),
                    ContentPart::Unsupported => None,
                })
                .collect(),
        ),
    }
}

fn message(m: &Message) -> MessageOut<'_> {
    match m {
        Message::System { content: c } => MessageOut::System {
            content: content(c),
        },
        Message::Developer { content: c } => MessageOut::Developer {
            content: content(c),
        },
        Message::User { content: c } => MessageOut::User {
            content: content(c),
        },
        Message::Assistant {
            content: c,
            tool_calls,
        } => MessageOut::Assistant {
            content: c.as_ref().map(content),
            tool_calls: tool_calls
                .as_ref()
                .map(|calls| calls.iter().map(call).collect()),
        },
        Message::Tool {
            content: c,
            tool_call_id,
        } => MessageOut::Tool {
            content: content(c),
            tool_call_id,
        },
    }
}

fn call(c: &ToolCall) -> CallOut<'_> {
    CallOut {
        id: &c.id,
        kind: "function",
        function: FunctionOut {
            name: &c.function.name,
            arguments: &c.function.arguments,
        },
    }
}

fn tool(t: &Tool) -> ToolOut<'_> {
    ToolOut {
        kind: "function",
        function: FunctionDefOut {
            name: &t.function.name,
            description: t.function.description.as_deref(),
            parameters: t.function.parameters.as_deref(),
        },
    }
}

fn tool_choice(c: &ToolChoice) -> ToolChoiceOut<'_> {
    match c {
        ToolChoice::Mode(m) => ToolChoiceOut::Mode(m),
        ToolChoice::Named(n) => ToolChoiceOut::Named {
            kind: "function",
            function: NameOut {
                name: &n.function.name,
            },
        },
    }
}

fn format(f: &ResponseFormat) -> FormatOut<'_> {
    FormatOut {
        kind: &f.kind,
        json_schema: f.json_schema.as_ref().map(|s| SchemaOut {
            name: s.name.as_deref().unwrap_or("response"),
            description: s.description.as_deref(),
            schema: s.schema.as_deref(),
            strict: s.strict,
        }),
    }
}
