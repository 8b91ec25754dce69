//! Incremental Server-Sent Events framer. Network chunks split events anywhere
//! (mid-line, mid-UTF-8, between CR and LF), so bytes are held until a whole event
//! has arrived. Follows the WHATWG event-stream parsing rules that providers use.

/// One complete event, with the exact bytes it arrived as (for passthrough).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    pub event: Option<String>,
    pub data: String,
    pub raw: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// One event grew beyond the limit without ending.
    TooLarge(usize),
}

pub struct SseParser {
    buf: Vec<u8>,
    /// Start of the event being assembled inside `buf`.
    event_start: usize,
    /// Where line scanning resumes.
    scan: usize,
    current: Event,
    has_data: bool,
    max_event: usize,
}

impl SseParser {
    pub fn new(max_event: usize) -> Self {
        SseParser {
            buf: Vec::new(),
            event_start: 0,
            scan: 0,
            current: Event::default(),
            has_data: false,
            max_event,
        }
    }

    /// Feed bytes; complete events are appended to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<(), SseError> {
        self.buf.extend_from_slice(chunk);
        self.drain(out, false);
        self.compact();
        if self.buf.len() > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        Ok(())
    }

    /// The stream ended: a final event without its blank line still counts.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.drain(out, true);
        if self.scan < self.buf.len() {
            let line = self.buf.get(self.scan..).unwrap_or(&[]).to_vec();
            self.field(&line);
            self.scan = self.buf.len();
        }
        if self.has_data || self.current.event.is_some() {
            self.dispatch(out);
        }
        self.buf.clear();
        self.event_start = 0;
        self.scan = 0;
    }

    /// Bytes received but not yet part of a complete event.
    pub fn pending(&self) -> usize {
        self.buf.len().saturating_sub(self.event_start)
    }

    fn drain(&mut self, out: &mut Vec<Event>, at_end: bool) {
        loop {
            let rest = self.buf.get(self.scan..).unwrap_or(&[]);
            let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                return;
            };
            let line_end = self.scan + pos;
            let term_len = match (rest.get(pos), rest.get(pos + 1)) {
                (Some(b'\r'), Some(b'\n')) => 2,
                // A CR at the very end may be the first half of CRLF: wait for more.
                (Some(b'\r'), None) if !at_end => return,
                _ => 1,
            };
            let line = self.buf.get(self.scan..line_end).unwrap_or(&[]).to_vec();
            self.scan = line_end + term_len;
            if line.is_empty() {
                self.dispatch(out);
            } else {
                self.field(&line);
            }
        }
    }

    fn field(&mut self, line: &[u8]) {
        if line.first() == Some(&b':') {
            return; // comment
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = line.get(i + 1..).unwrap_or(&[]);
                let v = v.strip_prefix(b" ").unwrap_or(v);
                (line.get(..i).unwrap_or(&[]), v)
            }
            None => (line, &[][..]),
        };
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.current.event = Some(value.into_owned()),
            _ => {} // id, retry and unknown fields do not matter to translation
        }
    }

    fn dispatch(&mut self, out: &mut Vec<Event>) {
        let raw = self
            .buf
            .get(self.event_start..self.scan.min(self.buf.len()))
            .unwrap_or(&[])
            .to_vec();
        self.event_start = self.scan;
        if !self.has_data && self.current.event.is_none() {
            self.current = Event::default();
            return; // blank lines between events, or a comment-only block
        }
        let mut ev = std::mem::take(&mut self.current);
        ev.raw = raw;
        self.has_data = false;
        out.push(ev);
    }

    fn compact(&mut self) {
        if self.event_start > 0 {
            self.buf.drain(..self.event_start.min(self.buf.len()));
            self.scan = self.scan.saturating_sub(self.event_start);
            self.event_start = 0;
        }
    }
}

/// `data: <json>\n\n`
pub fn write_data(out: &mut Vec<u8>, json: &[u8]) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(json);
    out.extend_from_slice(b"\n\n");
}

pub const DONE: &[u8] = b"data: [DONE]\n\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<Event> {
        let mut p = SseParser::new(1 << 20);
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        p.finish(&mut out);
        out
    }

    #[test]
    fn basic_events_and_raw_bytes() {
        let input = b"event: ping\ndata: {\"a\":1}\n\ndata: x\ndata: y\n\n";
        let evs = parse_all(&[input]);
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[0].event.as_deref(), Some("ping"));
        assert_eq!(evs[0].data, "{\"a\":1}");
        assert_eq!(evs[0].raw, b"event: ping\ndata: {\"a\":1}\n\n");
        assert_eq!(evs[1].data, "x\ny");
        let joined: Vec<u8> = evs.iter().flat_map(|e| e.raw.clone()).collect();
        assert_eq!(joined, input);
    }

    #[test]
    fn every_split_point_gives_same_events() {
        let input: &[u8] =
            b": comment\r\nevent: a\r\ndata: h\xc3\xa9llo\r\n\r\ndata:no-space\r\rdata: last";
        let whole = parse_all(&[input]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0].data, "héllo");
        assert_eq!(whole[1].data, "no-space");
        assert_eq!(whole[2].data, "last");
        for i in 0..=input.len() {
            for j in i..=input.len() {
                let got = parse_all(&[&input[..i], &input[i..j], &input[j..]]);
                assert_eq!(got, whole, "split at {i},{j}");
            }
        }
    }

    #[test]
    fn oversized_event_is_an_error() {
        let mut p = SseParser::new(16);
        let mut out = Vec::new();
        assert_eq!(
            p.push(b"data: 0123456789abcdef", &mut out),
            Err(SseError::TooLarge(16))
        );
    }

    #[test]
    fn pending_counts_partial_event() {
        let mut p = SseParser::new(1024);
        let mut out = Vec::new();
        p.push(b"data: a\n\ndata: b", &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(p.pending(), 7);
    }
}
