//! Provider-independent answer logic: what the mock says, whether it calls a tool,
//! and how many tokens it reports. Both wire formats parse their request into a
//! [`Conversation`] and render the resulting [`Answer`].

use serde_json::{Map, Value};

/// Prompt tokens charged for every image.
pub const IMAGE_TOKENS: u64 = 85;
/// Prompt tokens charged for every message, on top of its words.
pub const MESSAGE_TOKENS: u64 = 3;

/// A tool the client offered.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    /// JSON schema of the arguments (`parameters` / `input_schema`), `Value::Null` if absent.
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    None,
    /// OpenAI `"required"`, Anthropic `{"type":"any"}`: call the first tool.
    Required,
    Named(String),
}

/// What the mock needs to know about a request, independent of its wire format.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub prompt_tokens: u64,
    /// Text of the last user message (text parts concatenated).
    pub last_user_text: String,
    /// `Some(content)` when the conversation ends with a tool result.
    pub tool_result: Option<String>,
    /// Number of images in user messages.
    pub user_images: u64,
    pub tools: Vec<ToolDef>,
    pub tool_choice: ToolChoice,
    pub max_tokens: Option<u64>,
    pub stop: Vec<String>,
    /// A JSON schema the answer must follow (structured output): the text answer is
    /// then a JSON object built from it, like tool arguments.
    pub schema: Option<Value>,
}

impl Default for Conversation {
    fn default() -> Self {
        Self {
            prompt_tokens: 0,
            last_user_text: String::new(),
            tool_result: None,
            user_images: 0,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            max_tokens: None,
            stop: Vec::new(),
            schema: None,
        }
    }
}

/// Why a text answer ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    Stop,
    MaxTokens,
    StopSequence(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text {
        text: String,
        finish: Finish,
    },
    ToolCall {
        name: String,
        args: Map<String, Value>,
    },
}

impl Answer {
    /// The tool arguments as a compact JSON string (keys sorted), empty for text.
    pub fn args_json(&self) -> String {
        match self {
            Answer::Text { .. } => String::new(),
            Answer::ToolCall { args, .. } => {
                serde_json::to_string(args).unwrap_or_else(|_| String::from("{}"))
            }
        }
    }

    /// Completion tokens the mock reports for this answer.
    pub fn completion_tokens(&self) -> u64 {
        match self {
            Answer::Text { text, .. } => word_count(text),
            Answer::ToolCall { .. } => 5 + (self.args_json().chars().count() as u64) / 4,
        }
    }
}

/// Counts whitespace-separated words.
pub fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Splits text on spaces, keeping each space at the end of its piece, so that the
/// concatenation of the pieces is the text.
pub fn word_pieces(text: &str) -> Vec<&str> {
    text.split_inclusive(' ').collect()
}

/// Splits a string into `n` pieces of nearly equal length (in chars), dropping empty ones.
pub fn split_even(s: &str, n: usize) -> Vec<&str> {
    let chars: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
    let total = chars.len();
    let n = n.max(1);
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0usize;
    for k in 1..=n {
        let end_char = total * k / n;
        let end = chars.get(end_char).copied().unwrap_or(s.len());
        if end > start {
            if let Some(piece) = s.get(start..end) {
                pieces.push(piece);
            }
        }
        start = end;
    }
    pieces
}

/// Decides the answer for a conversation served by the provider called `name`.
pub fn answer(conv: &Conversation, name: &str) -> Answer {
    if let Some(tool) = chosen_tool(conv) {
        let mut args = args_from_schema(&tool.schema);
        // A command in backticks in the user's text becomes the string arguments (so an
        // agent can be asked to run something: "Run `cat notes.txt`").
        if let Some(quoted) = backticked(&conv.last_user_text) {
            for v in args.values_mut() {
                if v.as_str() == Some("mock") {
                    *v = Value::from(quoted);
                }
            }
        }
        return Answer::ToolCall {
            name: tool.name,
            args,
        };
    }
    if let Some(schema) = &conv.schema {
        let text = Value::Object(args_from_schema(schema)).to_string();
        return Answer::Text {
            text,
            finish: Finish::Stop,
        };
    }
    let mut text = match &conv.tool_result {
        Some(content) => format!("mock {name} got tool result: {content}"),
        None => format!("mock {name} says: {}", conv.last_user_text),
    };
    if conv.user_images > 0 {
        text.push_str(&format!(" [images: {}]", conv.user_images));
    }
    let mut finish = Finish::Stop;
    if let Some((pos, seq)) = earliest_stop(&text, &conv.stop) {
        text.truncate(pos);
        finish = Finish::StopSequence(seq);
    }
    if let Some(max) = conv.max_tokens {
        if word_count(&text) > max {
            text = first_words(&text, max).to_string();
            finish = Finish::MaxTokens;
        }
    }
    Answer::Text { text, finish }
}

/// A prompt may steer the mock: `[mock-tool:NAME]` calls that offered tool, `[mock-text]`
/// answers text although tools are offered. Clients that offer many tools on every
/// turn (coding agents) would otherwise get their first tool, turn after turn.
fn directive(conv: &Conversation) -> Option<Option<ToolDef>> {
    let text = &conv.last_user_text;
    if text.contains("[mock-text]") {
        return Some(None);
    }
    let name = text.split("[mock-tool:").nth(1)?.split(']').next()?;
    Some(conv.tools.iter().find(|t| t.name == name).cloned())
}

/// The text between the first pair of backticks, if any.
fn backticked(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once('`')?;
    let (inside, _) = rest.split_once('`')?;
    (!inside.is_empty()).then_some(inside)
}

fn chosen_tool(conv: &Conversation) -> Option<ToolDef> {
    if conv.tools.is_empty() || conv.tool_result.is_some() {
        return None;
    }
    if let Some(chosen) = directive(conv) {
        return chosen;
    }
    match &conv.tool_choice {
        ToolChoice::None => None,
        ToolChoice::Auto | ToolChoice::Required => conv.tools.first().cloned(),
        ToolChoice::Named(name) => Some(
            conv.tools
                .iter()
                .find(|t| &t.name == name)
                .cloned()
                .unwrap_or_else(|| ToolDef {
                    name: name.clone(),
                    schema: Value::Null,
                }),
        ),
    }
}

/// Builds mock arguments from a JSON schema: every required property (or every
/// property when `required` is absent) gets a value of its type.
pub fn args_from_schema(schema: &Value) -> Map<String, Value> {
    let mut args = Map::new();
    let props = schema.get("properties").and_then(Value::as_object);
    let names: Vec<String> = match schema.get("required").and_then(Value::as_array) {
        Some(required) => required
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        None => props
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
    };
    for name in names {
        let prop_type = props
            .and_then(|p| p.get(&name))
            .map(schema_type)
            .unwrap_or_default();
        let value = match prop_type.as_str() {
            "string" => Value::from("mock"),
            "number" | "integer" => Value::from(1),
            "boolean" => Value::Bool(true),
            _ => Value::Null,
        };
        args.insert(name, value);
    }
    args
}

/// The `type` of a property schema; for a type list, the first that is not "null".
fn schema_type(prop: &Value) -> String {
    match prop.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null")
            .to_string(),
        _ => String::new(),
    }
}

fn earliest_stop(text: &str, stops: &[String]) -> Option<(usize, String)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|pos| (pos, s.clone())))
        .min_by_key(|(pos, _)| *pos)
}

/// The text up to and including its `n`-th whitespace-separated word.
fn first_words(text: &str, n: u64) -> &str {
    let mut words = 0u64;
    let mut in_word = false;
    let mut end = 0usize;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if in_word && words == n {
                break;
            }
            in_word = false;
        } else {
            if !in_word {
                if words == n {
                    break;
                }
                words += 1;
                in_word = true;
            }
            end = i + c.len_utf8();
        }
    }
    text.get(..end).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conv(text: &str) -> Conversation {
        Conversation {
            last_user_text: text.to_string(),
            ..Conversation::default()
        }
    }

    #[test]
    fn text_answer() {
        let a = answer(&conv("hello there"), "alpha");
        assert_eq!(
            a,
            Answer::Text {
                text: "mock alpha says: hello there".into(),
                finish: Finish::Stop
            }
        );
        assert_eq!(a.completion_tokens(), 5);
    }

    #[test]
    fn images_suffix() {
        let c = Conversation {
            user_images: 2,
            ..conv("look")
        };
        let a = answer(&c, "b");
        assert_eq!(
            a,
            Answer::Text {
                text: "mock b says: look [images: 2]".into(),
                finish: Finish::Stop
            }
        );
    }

    #[test]
    fn tool_result_text() {
        let c = Conversation {
            tool_result: Some("42".into()),
            tools: vec![ToolDef {
                name: "f".into(),
                schema: Value::Null,
            }],
            ..conv("q")
        };
        assert_eq!(
            answer(&c, "x"),
            Answer::Text {
                text: "mock x got tool result: 42".into(),
                finish: Finish::Stop
            }
        );
    }

    #[test]
    fn tool_call_first_and_named() {
        let tools = vec![
            ToolDef {
                name: "weather".into(),
                schema: json!({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"},"x":{"type":"object"}},"required":["city","days"]}),
            },
            ToolDef {
                name: "other".into(),
                schema: json!({"properties":{"b":{"type":"boolean"},"n":{"type":["null","number"]},"o":{}}}),
            },
        ];
        let c = Conversation {
            tools: tools.clone(),
            ..conv("q")
        };
        let a = answer(&c, "x");
        assert_eq!(a.args_json(), r#"{"city":"mock","days":1}"#);
        assert_eq!(a.completion_tokens(), 5 + 24 / 4);
        let c = Conversation {
            tools: tools.clone(),
            tool_choice: ToolChoice::Named("other".into()),
            ..conv("q")
        };
        let a = answer(&c, "x");
        assert!(matches!(&a, Answer::ToolCall { name, .. } if name == "other"));
        assert_eq!(a.args_json(), r#"{"b":true,"n":1,"o":null}"#);
        let c = Conversation {
            tools,
            tool_choice: ToolChoice::None,
            ..conv("q")
        };
        assert!(matches!(answer(&c, "x"), Answer::Text { .. }));
    }

    #[test]
    fn max_tokens_and_stop() {
        let c = Conversation {
            max_tokens: Some(3),
            ..conv("one two three")
        };
        assert_eq!(
            answer(&c, "n"),
            Answer::Text {
                text: "mock n says:".into(),
                finish: Finish::MaxTokens
            }
        );
        let c = Conversation {
            stop: vec!["three".into(), "two".into()],
            ..conv("one two three")
        };
        assert_eq!(
            answer(&c, "n"),
            Answer::Text {
                text: "mock n says: one ".into(),
                finish: Finish::StopSequence("two".into())
            }
        );
        let c = Conversation {
            max_tokens: Some(5),
            ..conv("one two")
        };
        assert!(matches!(
            answer(&c, "n"),
            Answer::Text {
                finish: Finish::Stop,
                ..
            }
        ));
    }

    #[test]
    fn pieces() {
        let t = "mock a says:  hi there";
        assert_eq!(word_pieces(t).concat(), t);
        assert_eq!(
            word_pieces(t),
            vec!["mock ", "a ", "says: ", " ", "hi ", "there"]
        );
        assert_eq!(split_even("{\"a\":1}", 3).concat(), "{\"a\":1}");
        assert_eq!(split_even("{\"a\":1}", 3).len(), 3);
        assert_eq!(split_even("{}", 3), vec!["{", "}"]);
        assert_eq!(split_even("", 3), Vec::<&str>::new());
        assert_eq!(first_words("  a b  c", 2), "  a b");
    }
}

#[cfg(test)]
mod directive_tests {
    use super::*;

    #[test]
    fn a_prompt_can_name_the_tool_or_ask_for_text() {
        let tool = |name: &str| ToolDef {
            name: name.into(),
            schema: Value::Null,
        };
        let mut conv = Conversation {
            tools: vec![tool("Agent"), tool("Read")],
            last_user_text: "do it [mock-tool:Read]".into(),
            ..Conversation::default()
        };
        assert!(matches!(answer(&conv, "m"), Answer::ToolCall { name, .. } if name == "Read"));
        conv.last_user_text = "just talk [mock-text]".into();
        assert!(matches!(answer(&conv, "m"), Answer::Text { .. }));
        conv.last_user_text = "no directive".into();
        assert!(matches!(answer(&conv, "m"), Answer::ToolCall { name, .. } if name == "Agent"));
    }
}
