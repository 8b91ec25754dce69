//! OpenAI Chat Completions → Gemini `generateContent` (Google AI Studio). The body
//! builder is shared with Gemini on Vertex AI (`vertex.rs`); answers, streams and
//! errors are in `gemini_response.rs` / `gemini_stream.rs`.

// Tool parameters and answer schemas are JSON Schema, converted as values (schema.rs).
#![allow(clippy::disallowed_types)]

#[cfg(test)]
mod cases;
pub mod embeddings;
pub mod response;
mod schema;
pub mod settings;
pub mod stream;
pub mod translator;
pub mod wire;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::api::openai::{self as oa, ChatRequest, Content, ContentPart};
use crate::api::text::Text;
use crate::config::ProviderCommon;
use crate::error::GatewayError;
use crate::translate::gemini::wire as gm;
use crate::translate::request_parts::{
    self, base64_data_uri, image_param, stop_sequences, unsupported_part, ToolArguments, ToolChoice,
};
use crate::translate::UpstreamRequest;

/// Tool call ids we hand out carry Gemini's thought signature after this marker, so
/// that it comes back when the client replays the call (Gemini 3 requires it).
pub const SIGNATURE_MARKER: &str = "__thought__";
/// Google's documented placeholder for function calls that have no signature (made by
/// another model, or by the client); only sent to Gemini 3 models, which need one.
const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

pub fn request(
    provider: &ProviderCommon,
    upstream_model: &str,
    req: &ChatRequest,
) -> Result<UpstreamRequest, GatewayError> {
    let path = method_path(
        &format!("{}/models", provider.base_path),
        upstream_model,
        req.is_stream(),
    )?;
    let mut headers = Vec::new();
    if let Some(key) = &provider.api_key {
        headers.push(("x-goog-api-key", key.expose().to_string()));
    }
    Ok(UpstreamRequest {
        path,
        headers,
        body: Some(build(upstream_model, req)?),
    })
}

/// `{prefix}/{model}:generateContent` or `…:streamGenerateContent?alt=sse`.
pub fn method_path(prefix: &str, model: &str, stream: bool) -> Result<String, GatewayError> {
    let model = path_model(model)?;
    Ok(if stream {
        format!("{prefix}/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("{prefix}/{model}:generateContent")
    })
}

/// The model becomes a path segment: with `provider/model` addressing the client
/// chooses it, so anything that could escape the segment is refused.
pub fn path_model(model: &str) -> Result<&str, GatewayError> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    let ok = !model.is_empty()
        && model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        && !model.starts_with('.');
    if ok {
        Ok(model)
    } else {
        Err(GatewayError::bad_field(
            "model",
            "model names for this provider may only contain letters, digits and . _ - @",
        ))
    }
}

/// The `generateContent` body (golden vectors test this directly).
pub fn build(upstream_model: &str, req: &ChatRequest) -> Result<Vec<u8>, GatewayError> {
    let args = ToolArguments::parse(req)?;
    let gemini3 = upstream_model
        .strip_prefix("models/")
        .unwrap_or(upstream_model)
        .starts_with("gemini-3");
    let mut system: Vec<gm::Part<'_>> = Vec::new();
    let mut contents: Vec<gm::Content<'_>> = Vec::new();
    let mut names = CallNames::default();
    for (i, m) in req.messages.iter().enumerate() {
        let (role, parts) = match m {
            oa::Message::System { content } | oa::Message::Developer { content } => {
                system.extend(text_parts(content, i, "system messages take text only")?);
                continue;
            }
            oa::Message::User { content } => (gm::Role::User, user_parts(content, i)?),
            oa::Message::Assistant {
                content,
                tool_calls,
            } => {
                let mut parts = match content {
                    Some(c) => text_parts(c, i, "only text parts are allowed here")?,
                    None => Vec::new(),
                };
                if let Some(calls) = tool_calls {
                    names.add(calls);
                }
                for (j, c) in tool_calls.iter().flatten().enumerate() {
                    let raw = args.get(i, j)?;
                    let (_, signature) = split_id(&c.id);
                    let signature = match signature {
                        Some(s) => Some(s),
                        None if gemini3 && j == 0 => Some(SKIP_SIGNATURE),
                        None => None,
                    };
                    parts.push(gm::Part {
                        function_call: Some(gm::FunctionCall {
                            name: &c.function.name,
                            args: raw,
                        }),
                        thought_signature: signature,
                        ..gm::Part::default()
                    });
                }
                (gm::Role::Model, parts)
            }
            oa::Message::Tool {
                content,
                tool_call_id,
            } => {
                let name = names.name(i, tool_call_id)?;
                let part = gm::Part {
                    function_response: Some(gm::FunctionResponse {
                        name,
                        response: gm::ToolOutput {
                            content: plain_text(content, i)?,
                        },
                    }),
                    ..gm::Part::default()
                };
                (gm::Role::User, vec![part])
            }
        };
        if parts.is_empty() {
            continue; // Gemini refuses contents without parts.
        }
        // Parallel tool results must arrive together: merge consecutive same-role turns.
        match contents.last_mut() {
            Some(last) if last.role == role => last.parts.extend(parts),
            _ => contents.push(gm::Content { role, parts }),
        }
    }
    if contents.is_empty() {
        return Err(GatewayError::bad_field(
            "messages",
            "at least one user or assistant message is required",
        ));
    }
    // One expansion budget for all of the request's schemas.
    let mut budget = schema::Budget::default();
    let tools = tools(req, &mut budget)?;
    let body = gm::GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(gm::SystemInstruction { parts: system }),
        tool_config: tool_config(req, tools.is_some())?,
        tools,
        generation_config: generation_config(req, &mut budget)?,
    };
    serde_json::to_vec(&body).map_err(|e| GatewayError::internal(format!("serialise: {e}")))
}

/// `call_<n>__thought__<sig>` → (`call_<n>`, Some(sig)).
pub fn split_id(id: &str) -> (&str, Option<&str>) {
    match id.split_once(SIGNATURE_MARKER) {
        Some((base, sig)) if !sig.is_empty() => (base, Some(sig)),
        _ => (id, None),
    }
}

/// Gemini matches a function response by name: the names of the tool calls seen so far,
/// by id, filled in the same pass over the messages (one search per tool message was
/// quadratic). A later call with the same id wins, as the nearest earlier one should. An
/// ordered map: ids are client input, and an unkeyed hash could be made to collide.
#[derive(Default)]
struct CallNames<'a>(BTreeMap<CallId<'a>, &'a str>);

impl<'a> CallNames<'a> {
    fn add(&mut self, calls: &'a [oa::ToolCall]) {
        for c in calls {
            self.0.insert(CallId(&c.id), &c.function.name);
        }
    }

    fn name(&self, i: usize, id: &str) -> Result<&'a str, GatewayError> {
        self.0.get(&CallId(id)).copied().ok_or_else(|| {
            GatewayError::bad_field(
                format!("messages[{i}].tool_call_id"),
                "tool_call_id does not match any tool call of an earlier assistant message",
            )
        })
    }
}

/// A tool call id whose comparisons are counted as work (see `work.rs`).
#[derive(PartialEq, Eq)]
struct CallId<'a>(&'a str);

impl Ord for CallId<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        crate::translate::work::step();
        self.0.cmp(other.0)
    }
}

impl PartialOrd for CallId<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn text_parts<'a>(
    content: &'a Content,
    i: usize,
    why: &str,
) -> Result<Vec<gm::Part<'a>>, GatewayError> {
    let text = |t: &'a Text| gm::Part {
        text: Some(t),
        ..gm::Part::default()
    };
    match content {
        Content::Text(t) if t.is_empty() => Ok(Vec::new()),
        Content::Text(t) => Ok(vec![text(t)]),
        Content::Parts(parts) => parts
            .iter()
            .enumerate()
            .map(|(j, p)| match p {
                ContentPart::Text { text: t } => Ok(text(t)),
                _ => Err(unsupported_part(i, j, why)),
            })
            .collect(),
    }
}

fn plain_text(content: &Content, i: usize) -> Result<String, GatewayError> {
    match content {
        Content::Text(t) => Ok(t.as_str().into_owned()),
        Content::Parts(parts) => {
            let mut out = String::new();
            for (j, p) in parts.iter().enumerate() {
                match p {
                    ContentPart::Text { text } => out.push_str(&text.as_str()),
                    _ => return Err(unsupported_part(i, j, "tool results take text only")),
                }
            }
            Ok(out)
        }
    }
}

fn user_parts(content: &Content, i: usize) -> Result<Vec<gm::Part<'_>>, GatewayError> {
    let Content::Parts(parts) = content else {
        return text_parts(content, i, "");
    };
    parts
        .iter()
        .enumerate()
        .map(|(j, p)| match p {
            ContentPart::Text { text } => Ok(gm::Part {
                text: Some(text),
                ..gm::Part::default()
            }),
            ContentPart::ImageUrl { image_url } => image(&image_url.url, i, j),
            ContentPart::Unsupported => Err(unsupported_part(
                i,
                j,
                "this content part type is not supported by the provider (gemini)",
            )),
        })
        .collect()
}

fn image(url: &str, i: usize, j: usize) -> Result<gm::Part<'_>, GatewayError> {
    if let Some((mime_type, data)) = base64_data_uri(url, i, j)? {
        if mime_type.is_empty() {
            return Err(GatewayError::bad_field(
                image_param(i, j),
                "data URI images must be base64",
            ));
        }
        return Ok(gm::Part {
            inline_data: Some(gm::Blob { mime_type, data }),
            ..gm::Part::default()
        });
    }
    if ["https://", "http://", "gs://"]
        .iter()
        .any(|p| url.starts_with(p))
    {
        let mime_type = mime_from_extension(url).ok_or_else(|| {
            GatewayError::bad_field(
                image_param(i, j),
                "cannot tell the image type from this URL (Gemini needs it): use a URL ending in \
                 .png, .jpg, .jpeg, .webp, .gif, .heic or .heif, or a base64 data URI",
            )
        })?;
        return Ok(gm::Part {
            file_data: Some(gm::FileData {
                mime_type,
                file_uri: url,
            }),
            ..gm::Part::default()
        });
    }
    Err(GatewayError::bad_field(
        image_param(i, j),
        "image_url must be a data: URI or an http(s) or gs:// URL",
    ))
}

fn mime_from_extension(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1;
    if ext.contains('/') {
        return None;
    }
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

fn tools<'a>(
    req: &'a ChatRequest,
    budget: &mut schema::Budget,
) -> Result<Option<Vec<gm::Tool<'a>>>, GatewayError> {
    let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let mut decls = Vec::with_capacity(tools.len());
    for (i, t) in tools.iter().enumerate() {
        request_parts::function_tool(i, t)?;
        let parameters = match &t.function.parameters {
            None => None,
            Some(raw) => {
                let param = || format!("tools[{i}].function.parameters");
                let schema: Value = serde_json::from_str(raw.get())
                    .map_err(|_| GatewayError::bad_field(param(), "must be a JSON schema"))?;
                if schema::is_empty_object(&schema) {
                    None
                } else {
                    Some(schema::to_gemini(&schema, budget).map_err(|why| {
                        GatewayError::bad_field(
                            param(),
                            format!("tool {:?}: {why}", t.function.name),
                        )
                    })?)
                }
            }
        };
        decls.push(gm::FunctionDeclaration {
            name: &t.function.name,
            description: t.function.description.as_deref(),
            parameters,
        });
    }
    Ok(Some(vec![gm::Tool {
        function_declarations: decls,
    }]))
}

fn tool_config(
    req: &ChatRequest,
    has_tools: bool,
) -> Result<Option<gm::ToolConfig<'_>>, GatewayError> {
    let (mode, names) = match request_parts::tool_choice(req)? {
        None => return Ok(None),
        Some(ToolChoice::Auto) => ("AUTO", None),
        Some(ToolChoice::Required) => ("ANY", None),
        Some(ToolChoice::None) if has_tools => ("NONE", None),
        Some(ToolChoice::None) => return Ok(None),
        Some(ToolChoice::Function(name)) => ("ANY", Some(vec![name])),
    };
    if !has_tools {
        return Err(GatewayError::bad_field(
            "tool_choice",
            "tool_choice is set but no tools are given",
        ));
    }
    Ok(Some(gm::ToolConfig {
        function_calling_config: gm::FunctionCallingConfig {
            mode,
            allowed_function_names: names,
        },
    }))
}

fn generation_config(
    req: &ChatRequest,
    budget: &mut schema::Budget,
) -> Result<Option<gm::GenerationConfig>, GatewayError> {
    let (response_mime_type, response_schema) = response_format(req, budget)?;
    let cfg = gm::GenerationConfig {
        stop_sequences: stop_sequences(req),
        response_mime_type,
        response_schema,
        candidate_count: req.n.filter(|n| *n > 1),
        max_output_tokens: req.max_completion_tokens.or(req.max_tokens),
        temperature: req.temperature,
        top_p: req.top_p,
        seed: req.seed,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        thinking_config: thinking(req)?,
    };
    Ok((cfg != gm::GenerationConfig::default()).then_some(cfg))
}

type FormatOut = (Option<&'static str>, Option<Value>);

fn response_format(
    req: &ChatRequest,
    budget: &mut schema::Budget,
) -> Result<FormatOut, GatewayError> {
    let Some(f) = &req.response_format else {
        return Ok((None, None));
    };
    match f.kind.as_str() {
        "text" => Ok((None, None)),
        "json_object" => Ok((Some("application/json"), None)),
        "json_schema" => {
            let schema = match f.json_schema.as_ref().and_then(|s| s.schema.as_ref()) {
                None => None,
                Some(raw) => {
                    let param = "response_format.json_schema.schema";
                    let v: Value = serde_json::from_str(raw.get())
                        .map_err(|_| GatewayError::bad_field(param, "must be a JSON schema"))?;
                    Some(
                        schema::to_gemini(&v, budget)
                            .map_err(|why| GatewayError::bad_field(param, why))?,
                    )
                }
            };
            Ok((Some("application/json"), schema))
        }
        _ => Err(GatewayError::bad_field(
            "response_format.type",
            "response_format.type must be \"text\", \"json_object\" or \"json_schema\"",
        )),
    }
}

/// `reasoning_effort` → a thinking budget, with the same numbers as Google's own
/// OpenAI-compatible endpoint; thoughts are asked for so that they can be returned
/// as `reasoning_content`.
fn thinking(req: &ChatRequest) -> Result<Option<gm::ThinkingConfig>, GatewayError> {
    let Some(effort) = req.reasoning_effort.as_deref() else {
        return Ok(None);
    };
    let budget = match effort {
        "none" => {
            return Ok(Some(gm::ThinkingConfig {
                thinking_budget: 0,
                include_thoughts: None,
            }))
        }
        "minimal" | "low" => 1024,
        "medium" => 8192,
        "high" => 24576,
        _ => {
            return Err(GatewayError::bad_field(
                "reasoning_effort",
                "reasoning_effort must be none, minimal, low, medium or high",
            ))
        }
    };
    Ok(Some(gm::ThinkingConfig {
        thinking_budget: budget,
        include_thoughts: Some(true),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_path_segment() {
        assert_eq!(
            path_model("models/gemini-2.5-flash").unwrap(),
            "gemini-2.5-flash"
        );
        assert_eq!(
            path_model("claude-opus-4@20250514").unwrap(),
            "claude-opus-4@20250514"
        );
        for bad in [
            "",
            "a/b",
            "x?key=1",
            "..",
            "a b",
            "a:streamGenerateContent#",
        ] {
            assert_eq!(path_model(bad).unwrap_err().status, 400, "{bad}");
        }
    }

    #[test]
    fn ids_carry_signatures() {
        assert_eq!(split_id("call_0__thought__c2ln"), ("call_0", Some("c2ln")));
        assert_eq!(split_id("call_0"), ("call_0", None));
        assert_eq!(split_id("toolu_1__thought__"), ("toolu_1__thought__", None));
    }

    #[test]
    fn mime_types() {
        assert_eq!(
            mime_from_extension("https://x/a.PNG?s=1"),
            Some("image/png")
        );
        assert_eq!(mime_from_extension("gs://b/c.jpeg"), Some("image/jpeg"));
        assert_eq!(mime_from_extension("https://x.com/img"), None);
        assert_eq!(mime_from_extension("https://x.com/a.pdf"), None);
    }
}
