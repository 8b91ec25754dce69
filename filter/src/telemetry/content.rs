//! Captured prompts and completions as the GenAI conventions' span attributes:
//! `gen_ai.input.messages` and `gen_ai.output.messages` (JSON arrays of
//! `{"role", "parts": [{"type": "text", "content"}], "finish_reason"}`) and
//! `gen_ai.system_instructions` (a JSON array of parts), each a JSON string of at most
//! `cap` bytes. What does not fit is cut at a character boundary and marked with
//! [`TRUNCATED`] at the end of the last text kept; the JSON stays valid.

/// Ends a text that was cut (by the size cap, or before it reached the gateway's
/// capture window).
pub const TRUNCATED: &str = "…[truncated]";

/// One text part; `cut`: the text went on beyond what was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub cut: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub parts: Vec<Text>,
    /// Output messages only (the conventions require it there).
    pub finish_reason: Option<String>,
}

/// `gen_ai.input.messages` / `gen_ai.output.messages`: at most `cap` bytes.
pub fn messages(msgs: &[Message], cap: usize) -> String {
    fit(cap, |budget| render_messages(msgs, budget))
}

/// `gen_ai.system_instructions`: at most `cap` bytes.
pub fn instructions(parts: &[Text], cap: usize) -> String {
    fit(cap, |budget| {
        let mut w = Writer::new(budget, parts.len());
        w.out.push('[');
        w.parts(parts);
        w.out.push(']');
        w.out
    })
}

/// The rendering whose text budget makes it fit `cap`: escapes and structure are not
/// known before writing, so the budget shrinks by the overshoot until it fits.
fn fit(cap: usize, render: impl Fn(usize) -> String) -> String {
    let mut budget = cap;
    for _ in 0..16 {
        let s = render(budget);
        if s.len() <= cap {
            return s;
        }
        budget = budget.saturating_sub(s.len() - cap);
    }
    let s = render(0);
    if s.len() <= cap {
        s
    } else {
        String::from("[]")
    }
}

fn render_messages(msgs: &[Message], budget: usize) -> String {
    let total = msgs.iter().map(|m| m.parts.len()).sum();
    let mut w = Writer::new(budget, total);
    w.out.push('[');
    for (i, m) in msgs.iter().enumerate() {
        if w.stopped {
            break;
        }
        if i > 0 {
            w.out.push(',');
        }
        w.out.push_str("{\"role\":");
        push_json_str(&mut w.out, &m.role);
        w.out.push_str(",\"parts\":[");
        w.parts(&m.parts);
        w.out.push(']');
        if let Some(r) = &m.finish_reason {
            w.out.push_str(",\"finish_reason\":");
            push_json_str(&mut w.out, r);
        }
        w.out.push('}');
    }
    w.out.push(']');
    w.out
}

/// Writes parts while text budget lasts; the part that exhausts it is the last.
struct Writer {
    out: String,
    left: usize,
    /// Parts not yet written.
    remaining: usize,
    stopped: bool,
}

impl Writer {
    fn new(budget: usize, parts: usize) -> Self {
        Writer {
            out: String::with_capacity(budget.min(1 << 16) + 64),
            left: budget,
            remaining: parts,
            stopped: false,
        }
    }

    fn parts(&mut self, parts: &[Text]) {
        for (j, p) in parts.iter().enumerate() {
            if self.stopped {
                return;
            }
            if j > 0 {
                self.out.push(',');
            }
            self.remaining = self.remaining.saturating_sub(1);
            let take = floor_char_boundary(&p.text, self.left);
            let kept = p.text.get(..take).unwrap_or_default();
            self.left -= take;
            let cut = take < p.text.len() || p.cut;
            // Nothing more fits: this part is the last one written.
            let last = take < p.text.len() || (self.left == 0 && self.remaining > 0);
            self.out.push_str("{\"type\":\"text\",\"content\":\"");
            escape_into(&mut self.out, kept);
            if cut || last {
                self.out.push_str(TRUNCATED);
            }
            self.out.push_str("\"}");
            self.stopped = last;
        }
    }
}

/// The largest char boundary of `s` at or below `at`.
pub fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    let mut i = at;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// JSON string escaping (RFC 8259): quotes, backslashes and control characters.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                out.push_str("\\u00");
                let n = c as u32;
                for d in [n >> 4, n & 0xf] {
                    out.push(char::from_digit(d, 16).unwrap_or('0'));
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Text {
        Text {
            text: t.into(),
            cut: false,
        }
    }

    fn msg(role: &str, parts: &[&str]) -> Message {
        Message {
            role: role.into(),
            parts: parts.iter().map(|p| text(p)).collect(),
            finish_reason: None,
        }
    }

    #[test]
    fn messages_follow_the_conventions_schema() {
        let mut out = msg("assistant", &["hi \"there\"\n"]);
        out.finish_reason = Some("stop".into());
        let s = messages(&[msg("user", &["a", "b"]), out], 1024);
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"role": "user", "parts": [{"type": "text", "content": "a"},
                                            {"type": "text", "content": "b"}]},
                {"role": "assistant", "parts": [{"type": "text", "content": "hi \"there\"\n"}],
                 "finish_reason": "stop"}
            ])
        );
        let s = instructions(&[text("be brief")], 1024);
        assert_eq!(s, r#"[{"type":"text","content":"be brief"}]"#);
    }

    #[test]
    fn a_long_text_is_cut_to_the_cap_at_a_char_boundary_and_marked() {
        // 3-byte characters and escapes: the cut must land between characters.
        let long = "€\"".repeat(2000);
        for cap in [256, 300, 1000, 4097] {
            let s = messages(&[msg("user", &[&long]), msg("user", &["later"])], cap);
            assert!(s.len() <= cap, "{cap}: {}", s.len());
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            let content = v[0]["parts"][0]["content"].as_str().unwrap();
            assert!(content.ends_with(TRUNCATED), "{content}");
            let kept = content.trim_end_matches(TRUNCATED);
            assert!(long.starts_with(kept));
            // the budget is used, not wasted
            assert!(s.len() > cap * 3 / 4, "{cap}: {}", s.len());
            // nothing after the cut
            assert_eq!(v.as_array().unwrap().len(), 1);
        }
    }

    #[test]
    fn a_text_cut_before_capture_is_marked_and_control_characters_escaped() {
        let t = Text {
            text: "ab\u{1}".into(),
            cut: true,
        };
        let s = instructions(&[t], 256);
        assert_eq!(s, r#"[{"type":"text","content":"ab\u0001…[truncated]"}]"#);
        // many empty parts still fit the cap
        let parts: Vec<Text> = (0..500).map(|_| text("")).collect();
        let s = instructions(&parts, 256);
        assert!(s.len() <= 256);
        serde_json::from_str::<serde_json::Value>(&s).unwrap();
    }

    #[test]
    fn floor_boundary() {
        assert_eq!(floor_char_boundary("a€", 2), 1);
        assert_eq!(floor_char_boundary("a€", 4), 4);
        assert_eq!(floor_char_boundary("a€", 10), 4);
    }
}
