//! OpenAI Chat Completions → AWS Bedrock Converse, and the answer back. Requests are
//! signed here (SigV4) because the signature covers the translated body.

#[cfg(test)]
mod cases;
pub mod embeddings;
pub mod options;
pub mod settings;
pub mod stream;
mod translator;
pub mod wire;

use serde_json::value::RawValue;

use crate::api::openai::{
    self as oa, ChatRequest, ChatResponse, Choice, Content, ContentPart, ResponseMessage,
    ToolCallOut,
};
use crate::api::text::{Text, TextOut};
use crate::aws::sigv4;
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::bedrock::wire as br;
use crate::translate::request_parts::{
    self, base64_data_uri, empty_user_turn, encoded_path_segment, image_param, stop_sequences,
    unit_temperature, unsupported_part, user_part_blocks, ToolArguments, ToolChoice,
};
use crate::translate::{errors, ResponseMeta, ResponseOut, UpstreamRequest};
use crate::usage::TokenUsage;
use settings::BedrockSettings;

/// The signing name of `bedrock-runtime` (from its service model).
const SIGNING_SERVICE: &str = "bedrock";
pub const EVENT_STREAM_TYPE: &str = "application/vnd.amazon.eventstream";
pub const JSON: &str = "application/json";

pub fn request(
    provider: &ProviderCommon,
    settings: &BedrockSettings,
    upstream_model: &str,
    req: &ChatRequest,
    now_ms: u64,
) -> Result<UpstreamRequest, GatewayError> {
    let model = encoded_path_segment(upstream_model)?;
    let body = build_for(upstream_model, req)?;
    let op = if req.is_stream() {
        "converse-stream"
    } else {
        "converse"
    };
    // The model id is one path segment: `:` (versions) and `/` (ARNs) are encoded.
    let path = format!("{}/model/{model}/{op}", provider.base_path);
    let accept = if req.is_stream() {
        EVENT_STREAM_TYPE
    } else {
        JSON
    };
    let headers = auth_headers(provider, settings, &path, &body, accept, now_ms)?;
    Ok(UpstreamRequest {
        path,
        headers,
        body: Some(body),
    })
}

/// Content type, accept, and the credentials: a SigV4 signature over `path` and `body`
/// (shared with InvokeModel for embeddings), or a Bedrock API key.
pub fn auth_headers(
    provider: &ProviderCommon,
    settings: &BedrockSettings,
    path: &str,
    body: &[u8],
    accept: &str,
    now_ms: u64,
) -> Result<Vec<(&'static str, String)>, GatewayError> {
    let mut headers = vec![
        ("content-type", JSON.to_string()),
        ("accept", accept.to_string()),
    ];
    match &settings.credentials {
        Some(creds) => {
            let host = provider
                .host
                .as_deref()
                .ok_or_else(|| GatewayError::internal("bedrock provider without host"))?;
            let signed = [("content-type", JSON), ("host", host)];
            headers.extend(sigv4::sign(
                &sigv4::Request {
                    method: "POST",
                    path,
                    query: "",
                    headers: &signed,
                    payload: body,
                },
                &sigv4::Credentials {
                    access_key_id: creds.access_key_id.expose(),
                    secret_access_key: creds.secret_access_key.expose(),
                    session_token: creds.session_token.as_ref().map(|t| t.expose()),
                },
                &sigv4::Scope {
                    region: &settings.region,
                    service: SIGNING_SERVICE,
                },
                now_ms,
            ));
        }
        None => {
            if let Some(key) = &provider.api_key {
                headers.push(("authorization", format!("Bearer {}", key.expose())));
            }
        }
    }
    Ok(headers)
}

/// The Converse request body for a model whose id says nothing (not Claude's).
pub fn build(req: &ChatRequest) -> Result<Vec<u8>, GatewayError> {
    build_for("", req)
}

/// The Converse request body for `model` (what `response_format` and
/// `reasoning_effort` become depends on it: [`options`]).
pub fn build_for(model: &str, req: &ChatRequest) -> Result<Vec<u8>, GatewayError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(GatewayError::bad_field(
            "n",
            "n > 1 is not supported by this model's provider (bedrock)",
        ));
    }
    let empty_schema = crate::translate::empty_schema()?;
    let plan = options::plan(model, req, empty_schema)?;
    let args = ToolArguments::parse(req)?;
    let mut system = Vec::new();
    let mut messages: Vec<br::Message> = Vec::new();
    let mut has_tool_blocks = false;
    for (i, m) in req.messages.iter().enumerate() {
        let (role, blocks) = match m {
            oa::Message::System { content } | oa::Message::Developer { content } => {
                for text in texts(content, i, "system messages take text only")? {
                    if !text.is_blank() {
                        system.push(br::SystemBlock { text });
                    }
                }
                continue;
            }
            oa::Message::User { content } => {
                let blocks = user_blocks(content, i)?;
                if blocks.is_empty() {
                    return Err(empty_user_turn(i));
                }
                (br::Role::User, blocks)
            }
            oa::Message::Assistant {
                content,
                tool_calls,
            } => {
                let mut blocks = Vec::new();
                if let Some(c) = content {
                    for text in texts(c, i, "only text parts are allowed here")? {
                        if !text.is_blank() {
                            blocks.push(br::Block::Text(text));
                        }
                    }
                }
                for (j, c) in tool_calls.iter().flatten().enumerate() {
                    let input = args.get(i, j)?;
                    has_tool_blocks = true;
                    blocks.push(br::Block::ToolUse(br::ToolUse {
                        tool_use_id: &c.id,
                        name: &c.function.name,
                        input,
                    }));
                }
                (br::Role::Assistant, blocks)
            }
            oa::Message::Tool {
                content,
                tool_call_id,
            } => {
                has_tool_blocks = true;
                let content = texts(content, i, "only text parts are allowed here")?
                    .into_iter()
                    .map(br::ToolResultContent::Text)
                    .collect();
                (
                    br::Role::User,
                    vec![br::Block::ToolResult(br::ToolResult {
                        tool_use_id: tool_call_id,
                        content,
                    })],
                )
            }
        };
        if blocks.is_empty() {
            continue; // Bedrock refuses blank text blocks and empty messages.
        }
        crate::translate::turns::push(&mut messages, role, blocks);
    }
    if messages.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "at least one user or assistant message with content is required",
        ));
    }
    let suffix = plan.system_suffix.as_deref().map(owned_text).transpose()?;
    if let Some(text) = &suffix {
        system.push(br::SystemBlock { text });
    }
    let inference = br::InferenceConfig {
        max_tokens: plan.max_tokens,
        temperature: unit_temperature(req).filter(|_| !plan.drop_temperature),
        top_p: req.top_p.filter(|_| !plan.drop_top_p),
        stop_sequences: stop_sequences(req),
    };
    let has_inference = inference.max_tokens.is_some()
        || inference.temperature.is_some()
        || inference.top_p.is_some()
        || inference.stop_sequences.is_some();
    let tool_config = match plan.json_tool {
        Some(tool) => Some(json_tool_config(req, tool)?),
        None => tool_config(req, empty_schema, has_tool_blocks)?,
    };
    let body = br::ConverseRequest {
        messages,
        system,
        inference_config: has_inference.then_some(inference),
        tool_config,
        additional_model_request_fields: plan
            .thinking
            .map(|thinking| br::AdditionalFields { thinking }),
    };
    serde_json::to_vec(&body).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

fn tool_config<'a>(
    req: &'a ChatRequest,
    empty_schema: &'a RawValue,
    has_tool_blocks: bool,
) -> Result<Option<br::ToolConfig<'a>>, GatewayError> {
    let tools = match &req.tools {
        Some(tools) if !tools.is_empty() => tools,
        _ => {
            return match &req.tool_choice {
                None => Ok(None),
                Some(oa::ToolChoice::Mode(m)) if m == "none" => Ok(None),
                Some(_) => Err(GatewayError::bad_field(
                    "tool_choice",
                    "tool_choice is set but no tools are given",
                )),
            }
        }
    };
    let mut specs = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        request_parts::function_tool(i, t)?;
        // Its calls come back as the answer's text (see `options`).
        if t.function.name == options::JSON_TOOL {
            return Err(GatewayError::bad_field(
                format!("tools[{i}].function.name"),
                format!(
                    "the tool name {} is reserved by the gateway",
                    options::JSON_TOOL
                ),
            ));
        }
        specs.push(br::Tool {
            tool_spec: br::ToolSpec {
                name: &t.function.name,
                description: t.function.description.as_deref().filter(|d| !d.is_empty()),
                input_schema: br::InputSchema {
                    json: t.function.parameters.as_deref().unwrap_or(empty_schema),
                },
            },
        });
    }
    let choice = match request_parts::tool_choice(req)? {
        None => None,
        Some(ToolChoice::Auto) => Some(br::ToolChoice::Auto(br::Empty {})),
        Some(ToolChoice::Required) => Some(br::ToolChoice::Any(br::Empty {})),
        // Converse has no "none". Without tool blocks in the conversation the
        // tools are simply not sent; with them Bedrock requires toolConfig, so the
        // tools go along without a choice (the model could still call one).
        Some(ToolChoice::None) if !has_tool_blocks => return Ok(None),
        Some(ToolChoice::None) => None,
        Some(ToolChoice::Function(name)) => Some(br::ToolChoice::Tool(br::NamedTool { name })),
    };
    Ok(Some(br::ToolConfig {
        tools: specs,
        tool_choice: choice,
    }))
}

/// The forced tool that carries a `json_schema` answer (only planned when the client
/// gave no tools of its own).
fn json_tool_config<'a>(
    req: &ChatRequest,
    tool: br::Tool<'a>,
) -> Result<br::ToolConfig<'a>, GatewayError> {
    if matches!(&req.tool_choice, Some(oa::ToolChoice::Named(_))) {
        return Err(GatewayError::bad_field(
            "tool_choice",
            "tool_choice names a tool but no tools are given",
        ));
    }
    let name = tool.tool_spec.name;
    Ok(br::ToolConfig {
        tools: vec![tool],
        tool_choice: Some(br::ToolChoice::Tool(br::NamedTool { name })),
    })
}

/// Text the gateway adds, as the literal a system block holds.
fn owned_text(s: &str) -> Result<Text, GatewayError> {
    crate::api::openai_build::text(s).map_err(|e| GatewayError::internal(format!("text: {e}")))
}

/// The text of a message, part by part; any other part is refused.
fn texts<'a>(content: &'a Content, i: usize, why: &str) -> Result<Vec<&'a Text>, GatewayError> {
    match content {
        Content::Text(t) => Ok(vec![t]),
        Content::Parts(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| match p {
                ContentPart::Text { text } => Ok(text),
                _ => Err(unsupported_part(i, j, why)),
            })
            .collect(),
    }
}

fn user_blocks(content: &Content, i: usize) -> Result<Vec<br::Block<'_>>, GatewayError> {
    let mut out = Vec::new();
    match content {
        Content::Text(t) => {
            if !t.is_blank() {
                out.push(br::Block::Text(t));
            }
        }
        Content::Parts(parts) => {
            out = user_part_blocks(parts, i, "bedrock", br::Block::Text, |url, j| {
                image(url, i, j)
            })?;
        }
    }
    Ok(out)
}

fn image(url: &str, i: usize, j: usize) -> Result<br::Block<'_>, GatewayError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        return Err(GatewayError::bad_field(
            image_param(i, j),
            "Bedrock cannot fetch image URLs: send the image as a base64 data URI (data:image/png;base64,...)",
        ));
    }
    let Some((media_type, data)) = base64_data_uri(url, i, j)? else {
        return Err(GatewayError::bad_field(
            image_param(i, j),
            "image_url must be a base64 data: URI",
        ));
    };
    let format = match media_type {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => {
            return Err(GatewayError::bad_field(
                image_param(i, j),
                "image type must be image/jpeg, image/png, image/gif or image/webp",
            ))
        }
    };
    if data.is_empty()
        || !data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err(GatewayError::bad_field(
            image_param(i, j),
            "image data is not valid base64",
        ));
    }
    Ok(br::Block::Image(br::Image {
        format,
        source: br::ImageSource { bytes: data },
    }))
}

// ---------- answers ----------

pub fn finish_reason(stop_reason: Option<&str>) -> Option<&'static str> {
    Some(match stop_reason? {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        // end_turn, stop_sequence, malformed_* and anything newer.
        _ => "stop",
    })
}

/// Bedrock's `inputTokens` excludes cache reads and writes; OpenAI's
/// `prompt_tokens` includes them.
pub fn usage(u: &br::Usage) -> TokenUsage {
    let prompt = match (
        u.input_tokens,
        u.cache_read_input_tokens,
        u.cache_write_input_tokens,
    ) {
        (None, None, None) => None,
        (a, b, c) => Some(a.unwrap_or(0) + b.unwrap_or(0) + c.unwrap_or(0)),
    };
    TokenUsage {
        prompt,
        completion: u.output_tokens,
        cached_prompt: u.cache_read_input_tokens,
        // Converse's TokenUsage has no reasoning count: thinking is inside outputTokens.
        reasoning: None,
    }
}

/// Converse answers carry no id; Bedrock's request id names the completion.
pub fn completion_id(meta: &ResponseMeta<'_>) -> String {
    match (meta.header)("x-amzn-requestid") {
        Some(id) if !id.is_empty() && id.len() <= 128 => format!("chatcmpl-{id}"),
        _ => "chatcmpl-bedrock".to_string(),
    }
}

pub fn response(
    status: u16,
    body: &[u8],
    created: u64,
    meta: &ResponseMeta<'_>,
) -> Result<ResponseOut, GatewayError> {
    if !(200..300).contains(&status) {
        return Err(error(status, body, meta));
    }
    let resp: br::ConverseResponse = serde_json::from_slice(body).map_err(|_| {
        GatewayError::bad_gateway("upstream returned a malformed Bedrock Converse answer")
    })?;
    let usage = resp.usage.as_ref().map(usage).unwrap_or_default();
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut calls = Vec::new();
    let mut json_answer = false;
    for block in resp.output.message.iter().flat_map(|m| &m.content) {
        if let Some(t) = &block.text {
            text.get_or_insert_with(String::new).push_str(t);
        }
        if let Some(t) = block
            .reasoning_content
            .as_ref()
            .and_then(|r| r.reasoning_text.as_ref())
        {
            reasoning.get_or_insert_with(String::new).push_str(&t.text);
        }
        match &block.tool_use {
            // A json_schema answer: the forced tool's input is the message text.
            Some(tu) if tu.name == options::JSON_TOOL => {
                json_answer = true;
                let input = tu.input.as_deref().map(RawValue::get).unwrap_or("{}");
                text.get_or_insert_with(String::new).push_str(input);
            }
            Some(tu) => calls.push(ToolCallOut {
                id: &tu.tool_use_id,
                kind: "function",
                function: oa::FunctionOut {
                    name: &tu.name,
                    arguments: tu.input.as_deref().map(RawValue::get).unwrap_or("{}"),
                },
            }),
            None => {}
        }
        // Citations, images: no OpenAI field in a chat completion here.
    }
    let finish = match finish_reason(resp.stop_reason.as_deref()) {
        Some("tool_calls") if json_answer && calls.is_empty() => Some("stop"),
        other => other,
    };
    let id = completion_id(meta);
    let out = ChatResponse {
        id: &id,
        object: "chat.completion",
        created,
        model: meta.model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant",
                content: text.map(TextOut::Owned),
                reasoning_content: reasoning,
                tool_calls: (!calls.is_empty()).then_some(calls),
            },
            logprobs: None,
            finish_reason: finish,
        }],
        usage: usage.to_openai(),
    };
    Ok(ResponseOut::chat(&out, body.len(), usage))
}

/// Client status, OpenAI error type and code for a Bedrock exception name
/// (`ThrottlingException`, or the event stream's `throttlingException`).
pub fn exception_status(name: &str) -> Option<(u16, &'static str, &'static str)> {
    let known: [(&str, u16, &str); 17] = [
        ("ThrottlingException", 429, "rate_limit_error"),
        ("ServiceQuotaExceededException", 429, "rate_limit_error"),
        ("ServiceUnavailableException", 503, "api_error"),
        ("ModelNotReadyException", 503, "api_error"),
        ("ValidationException", 400, "invalid_request_error"),
        ("AccessDeniedException", 403, "permission_error"),
        // The gateway's own AWS credentials were refused.
        ("UnrecognizedClientException", 403, "authentication_error"),
        ("InvalidSignatureException", 403, "authentication_error"),
        ("IncompleteSignatureException", 403, "authentication_error"),
        ("ExpiredTokenException", 403, "authentication_error"),
        (
            "MissingAuthenticationTokenException",
            403,
            "authentication_error",
        ),
        ("ResourceNotFoundException", 404, "not_found_error"),
        ("ModelTimeoutException", 504, "api_error"),
        ("ModelErrorException", 502, "api_error"),
        ("ModelStreamErrorException", 502, "api_error"),
        ("InternalServerException", 500, "api_error"),
        ("InternalFailure", 500, "api_error"),
    ];
    known
        .into_iter()
        .find(|(n, ..)| n.eq_ignore_ascii_case(name))
        .map(|(n, status, kind)| (status, kind, n))
}

/// `ThrottlingException:http://internal.amazon.com/…` or `com.amazon…#ThrottlingException`
/// → `ThrottlingException`.
fn short_type(raw: &str) -> &str {
    let raw = raw.split(':').next().unwrap_or(raw);
    raw.rsplit('#').next().unwrap_or(raw).trim()
}

pub fn error(status: u16, body: &[u8], meta: &ResponseMeta<'_>) -> GatewayError {
    let parsed: br::ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let kind = (meta.header)("x-amzn-errortype")
        .or(parsed.kind)
        .or(parsed.code)
        .map(|k| short_type(&k).to_string());
    let message = parsed.message.filter(|m| !m.is_empty());
    match kind.as_deref().and_then(exception_status) {
        Some((client_status, openai_kind, code)) => {
            let base = errors::from_upstream(status, None, message.as_deref(), body);
            let mut e = GatewayError::upstream(client_status, openai_kind, base.message);
            e.code = Some(code);
            e
        }
        None => errors::from_upstream(status, None, message.as_deref(), body),
    }
}
