//! Trace context: the client's (or Envoy's) `traceparent` (W3C) or `x-b3-*` headers, so
//! that the gateway's span joins their trace, and the `traceparent` the provider gets.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The gateway's span for this request.
    pub span_id: [u8; 8],
    /// The caller's span, if the request carried one.
    pub parent: Option<[u8; 8]>,
}

fn hex_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    // `from_str_radix` alone would take a sign (`+f`); W3C ids are lowercase hex.
    if s.len() != 2 * N || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, slot) in out.iter_mut().enumerate() {
        let pair = s.get(2 * i..2 * i + 2)?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    // All-zero ids are invalid in both formats.
    out.iter().any(|b| *b != 0).then_some(out)
}

pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}

/// `00-<trace id>-<parent id>-<flags>`: the trace id and the caller's span.
fn parse_traceparent(v: &str) -> Option<([u8; 16], [u8; 8])> {
    let mut parts = v.trim().split('-');
    let version = parts.next()?;
    if version.len() != 2 || version == "ff" {
        return None;
    }
    let trace = hex_bytes::<16>(parts.next()?)?;
    let parent = hex_bytes::<8>(parts.next()?)?;
    let flags = parts.next()?;
    (flags.len() == 2).then_some((trace, parent))
}

/// B3: a 64-bit trace id is the low half of a 128-bit one.
fn parse_b3(trace: &str, span: &str) -> Option<([u8; 16], [u8; 8])> {
    let trace = match trace.len() {
        16 => {
            let low = hex_bytes::<8>(trace)?;
            let mut t = [0u8; 16];
            t[8..].copy_from_slice(&low);
            t
        }
        _ => hex_bytes::<16>(trace)?,
    };
    Some((trace, hex_bytes::<8>(span)?))
}

impl TraceContext {
    /// Join the incoming trace (traceparent first, then B3), or start one; `random`
    /// gives the new ids.
    pub fn of(
        traceparent: Option<&str>,
        b3: Option<(&str, &str)>,
        mut random: impl FnMut() -> u64,
    ) -> TraceContext {
        let incoming = traceparent
            .and_then(parse_traceparent)
            .or_else(|| b3.and_then(|(t, s)| parse_b3(t, s)));
        let mut span_id = random().to_be_bytes();
        if span_id == [0; 8] {
            span_id[7] = 1;
        }
        match incoming {
            Some((trace_id, parent)) => TraceContext {
                trace_id,
                span_id,
                parent: Some(parent),
            },
            None => {
                let mut trace_id = [0u8; 16];
                trace_id[..8].copy_from_slice(&random().to_be_bytes());
                trace_id[8..].copy_from_slice(&random().to_be_bytes());
                if trace_id == [0; 16] {
                    trace_id[15] = 1;
                }
                TraceContext {
                    trace_id,
                    span_id,
                    parent: None,
                }
            }
        }
    }

    /// What the provider gets: our span as its parent, sampled.
    pub fn traceparent(&self) -> String {
        crate::strs::concat(&["00-", &hex(&self.trace_id), "-", &hex(&self.span_id), "-01"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter() -> impl FnMut() -> u64 {
        let mut n = 0x0102_0304_0506_0700u64;
        move || {
            n += 1;
            n
        }
    }

    #[test]
    fn joins_a_w3c_trace() {
        let t = TraceContext::of(
            Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            None,
            counter(),
        );
        assert_eq!(hex(&t.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            t.parent.map(|p| hex(&p)).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(
            t.traceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060701-01"
        );
    }

    #[test]
    fn joins_b3_and_starts_a_trace_when_none_or_invalid() {
        let t = TraceContext::of(
            None,
            Some(("a3ce929d0e0e4736", "00f067aa0ba902b7")),
            counter(),
        );
        assert_eq!(hex(&t.trace_id), "0000000000000000a3ce929d0e0e4736");
        for bad in [
            "",
            "00-zz-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-+0f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
        ] {
            let t = TraceContext::of(Some(bad), None, counter());
            assert_eq!(t.parent, None, "{bad}");
            assert_ne!(t.trace_id, [0; 16]);
        }
    }
}
