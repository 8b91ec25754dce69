//! Opt-in capture of prompts and completions on spans (`traces.capture_content`): the
//! request's messages are rendered when it is forwarded, the answer's text is kept as it
//! goes to the client (streams: up to the cap only, read back from what the client
//! receives), and both become the conventions' attributes (`telemetry::content`) when
//! the span is made. Every text is redacted first: the configured provider credentials,
//! the provider's fetched token and the client's own key never reach a span.

use super::capture_wire as wire;
use super::inbound::Endpoint;
use super::redact::redact_str;
use crate::codec::sse::{Event, SseParser};
use crate::config::Secret;
use crate::telemetry::content::{self, floor_char_boundary, Message, Text};
use crate::translate::finish::FinishReasons;
use crate::translate::MAX_EVENT_BYTES;

/// Roles are the client's text too: kept short.
const MAX_ROLE: usize = 32;

pub struct Capture {
    /// Each attribute's size cap (bytes of JSON).
    cap: usize,
    secrets: Vec<Secret>,
    /// Raw text kept at most: the cap, plus room for a secret that starts before the cap
    /// to be seen whole (and redacted) rather than cut.
    window: usize,
    /// `gen_ai.input.messages`, rendered.
    pub input: String,
    /// `gen_ai.system_instructions`, rendered (when the dialect has them apart).
    pub system: Option<String>,
    /// The answer's text per choice, as received (redacted when rendered).
    output: Vec<(u32, String)>,
    kept: usize,
    /// More answer text came than was kept.
    output_cut: bool,
    /// Streams: the client's events, read for their text until the window is full.
    sse: Option<SseParser>,
}

impl Capture {
    /// Capture for a request to `endpoint` whose body is `raw`; `None` for endpoints
    /// without messages (embeddings, token counting).
    pub fn start(endpoint: Endpoint, raw: &[u8], cap: usize, secrets: Vec<Secret>) -> Option<Self> {
        if !matches!(
            endpoint,
            Endpoint::Chat | Endpoint::Messages | Endpoint::Responses
        ) {
            return None;
        }
        let longest = secrets.iter().map(|s| s.expose().len()).max().unwrap_or(0);
        let mut c = Capture {
            cap,
            window: cap.saturating_add(longest),
            secrets,
            input: String::new(),
            system: None,
            output: Vec::new(),
            kept: 0,
            output_cut: false,
            sse: None,
        };
        let (system, messages) = c.read_request(raw);
        c.input = content::messages(&messages, cap);
        c.system = system.map(|s| content::instructions(&s, cap));
        Some(c)
    }

    /// The request's system instructions (if apart) and messages, clipped and redacted.
    fn read_request(&self, raw: &[u8]) -> (Option<Vec<Text>>, Vec<Message>) {
        // The dialects' fields do not overlap: one reading serves all three.
        let Ok(req) = serde_json::from_slice::<wire::Request>(raw) else {
            return (None, Vec::new());
        };
        let mut room = Room::new(self.window);
        let system = match (&req.system, &req.instructions) {
            (Some(s), _) => Some(s.texts()),
            (None, Some(i)) => Some(vec![i.as_str()]),
            (None, None) => None,
        };
        let system = system.map(|t| room.take(t, &self.secrets));
        let mut messages = Vec::new();
        let mut read = |role: Option<&str>, texts: Vec<&str>| {
            messages.push(Message {
                role: role_of(role.unwrap_or("user")),
                parts: room.take(texts, &self.secrets),
                finish_reason: None,
            });
        };
        let items = match &req.input {
            Some(wire::Input::Text(t)) => {
                read(None, vec![t.as_str()]);
                &[][..]
            }
            Some(wire::Input::Items(items)) => items.as_slice(),
            _ => &[][..],
        };
        // Items without a role (tool calls and their outputs) are not messages.
        for m in req
            .messages
            .iter()
            .chain(items)
            .filter(|m| m.role.is_some())
        {
            read(m.role.as_deref(), m.texts());
        }
        (system, messages)
    }

    /// A buffered answer as the client gets it.
    pub fn answer(&mut self, body: &[u8]) {
        let Ok(a) = serde_json::from_slice::<wire::Answer>(body) else {
            return;
        };
        for c in &a.choices {
            for t in c.message.as_ref().map(wire::Msg::texts).unwrap_or_default() {
                self.keep(c.index, t);
            }
        }
        let content = a.content.as_ref().map(wire::Content::texts);
        for t in content.unwrap_or_default() {
            self.keep(0, t);
        }
        for m in a.output.iter().filter(|m| m.role.is_some()) {
            for t in m.texts() {
                self.keep(0, t);
            }
        }
    }

    /// Bytes of a stream as the client gets them.
    pub fn stream(&mut self, out: &[u8]) {
        if self.kept >= self.window {
            // Full: the rest is not read (and the parser's buffer goes).
            self.output_cut |= !out.is_empty();
            self.sse = None;
            return;
        }
        let parser = self
            .sse
            .get_or_insert_with(|| SseParser::new(MAX_EVENT_BYTES));
        let mut events = Vec::new();
        if parser.push(out, &mut events).is_err() {
            self.output_cut = true;
            self.kept = self.window;
            return;
        }
        for ev in &events {
            self.stream_event(ev);
        }
    }

    fn stream_event(&mut self, ev: &Event) {
        let Ok(e) = serde_json::from_str::<wire::StreamEvent>(&ev.data) else {
            return;
        };
        for c in &e.choices {
            if let Some(t) = c.delta.as_ref().and_then(|d| d.content.as_deref()) {
                self.keep(c.index, t);
            }
        }
        let text = match (&e.delta, e.kind.as_str()) {
            (Some(wire::Delta::Block(p)), "content_block_delta") => p.text.as_deref(),
            (Some(wire::Delta::Text(t)), "response.output_text.delta") => Some(t.as_str()),
            _ => None,
        };
        if let Some(t) = text {
            self.keep(0, t);
        }
    }

    /// Answer text of `choice`, kept while the window has room.
    fn keep(&mut self, choice: u32, text: &str) {
        let room = self.window.saturating_sub(self.kept);
        let take = floor_char_boundary(text, room);
        if take < text.len() {
            self.output_cut = true;
        }
        let Some(piece) = text.get(..take).filter(|p| !p.is_empty()) else {
            return;
        };
        self.kept += take;
        match self.output.iter_mut().find(|(c, _)| *c == choice) {
            Some((_, t)) => t.push_str(piece),
            None => self.output.push((choice, piece.to_string())),
        }
    }

    /// `gen_ai.output.messages`, or `None` when no answer was seen.
    pub fn output(&self, reasons: &FinishReasons) -> Option<String> {
        if self.output.is_empty() && reasons.is_empty() {
            return None;
        }
        let mut choices: Vec<u32> = self.output.iter().map(|(c, _)| *c).collect();
        for c in reasons.choices() {
            if !choices.contains(&c) {
                choices.push(c);
            }
        }
        choices.sort_unstable();
        let mut room = Room::new(self.window);
        let last = choices.last().copied();
        let messages = choices
            .iter()
            .map(|&c| {
                let text = self
                    .output
                    .iter()
                    .find(|(o, _)| *o == c)
                    .map_or("", |(_, t)| t.as_str());
                let mut parts = room.take(vec![text], &self.secrets);
                if self.output_cut && Some(c) == last {
                    if let Some(p) = parts.last_mut() {
                        p.cut = true;
                    }
                }
                Message {
                    role: "assistant".into(),
                    parts,
                    // Required by the conventions: an answer cut before its end has none.
                    finish_reason: Some(reasons.get(c).unwrap_or("").to_string()),
                }
            })
            .collect::<Vec<_>>();
        Some(content::messages(&messages, self.cap))
    }
}

/// What is left of the capture window while texts are read in order.
struct Room {
    left: usize,
}

impl Room {
    fn new(window: usize) -> Self {
        Room { left: window }
    }

    /// `texts` clipped to what is left and redacted; a text beyond the window is cut and
    /// those after it are dropped (the last one kept says so).
    fn take(&mut self, texts: Vec<&str>, secrets: &[Secret]) -> Vec<Text> {
        let mut out = Vec::with_capacity(texts.len());
        for t in texts {
            if self.left == 0 {
                if let Some(last) = out.last_mut() {
                    let last: &mut Text = last;
                    last.cut = true;
                } else {
                    out.push(Text {
                        text: String::new(),
                        cut: true,
                    });
                }
                break;
            }
            let take = floor_char_boundary(t, self.left);
            self.left -= take;
            out.push(clean(
                t.get(..take).unwrap_or_default(),
                take < t.len(),
                secrets,
            ));
        }
        out
    }
}

/// `text` without credentials. A cut text may end in the first part of one: that tail goes.
fn clean(text: &str, cut: bool, secrets: &[Secret]) -> Text {
    let mut s = redact_str(text, secrets).unwrap_or_else(|| text.to_string());
    if cut {
        strip_secret_prefix(&mut s, secrets);
    }
    Text { text: s, cut }
}

/// Removes a tail of `s` that begins a secret (the rest of it was cut off).
fn strip_secret_prefix(s: &mut String, secrets: &[Secret]) {
    for secret in secrets {
        let secret = secret.expose();
        let longest = secret.len().saturating_sub(1).min(s.len());
        for n in (1..=longest).rev() {
            let Some(head) = secret.get(..n) else {
                continue;
            };
            if s.ends_with(head) {
                s.truncate(s.len() - n);
                break;
            }
        }
    }
}

fn role_of(role: &str) -> String {
    role.get(..floor_char_boundary(role, MAX_ROLE))
        .unwrap_or_default()
        .to_string()
}
