//! Trace context: the client's (or Envoy's) `traceparent` (W3C) or `x-b3-*` headers, so
//! that the gateway's span joins their trace, and the `traceparent` the provider gets.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The gateway's span for this request.
    pub span_id: [u8; 8],
    /// The caller's span, if the request carried one.
    pub parent: Option<[u8; 8]>,
    /// Recorded and exported: the caller's choice when it made one, otherwise the
    /// configured share of trace ids.
    pub sampled: bool,
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

/// A caller's trace: its id, the caller's span and whether the caller samples it.
type Incoming = ([u8; 16], [u8; 8], Option<bool>);

/// `00-<trace id>-<parent id>-<flags>`: the trace id, the caller's span, its sampled flag.
fn parse_traceparent(v: &str) -> Option<Incoming> {
    let mut parts = v.trim().split('-');
    let version = parts.next()?;
    if version.len() != 2 || version == "ff" {
        return None;
    }
    let trace = hex_bytes::<16>(parts.next()?)?;
    let parent = hex_bytes::<8>(parts.next()?)?;
    let flags = hex_bytes_or_zero(parts.next()?)?;
    Some((trace, parent, Some(flags & 1 == 1)))
}

/// The flags byte (which may be zero, unlike an id).
fn hex_bytes_or_zero(s: &str) -> Option<u8> {
    if s.len() != 2 || !s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u8::from_str_radix(s, 16).ok()
}

/// `x-b3-sampled`: `1`/`true` or `0`/`false`; anything else leaves the choice to us.
fn b3_sampled(v: Option<&str>) -> Option<bool> {
    match v.map(str::trim) {
        Some("1") | Some("true") => Some(true),
        Some("0") | Some("false") => Some(false),
        _ => None,
    }
}

/// The configured share of trace ids, decided by the id's low 64 bits so every
/// gateway (and any other ratio sampler on the same rule) decides a trace alike.
fn by_ratio(trace_id: &[u8; 16], ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id[8..]);
    // Exact enough: f64 keeps 53 bits of the id.
    (u64::from_be_bytes(low) as f64) < ratio * 18_446_744_073_709_551_616.0
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

/// The trace headers a request carried.
#[derive(Debug, Clone, Copy, Default)]
pub struct Headers<'a> {
    pub traceparent: Option<&'a str>,
    /// `x-b3-traceid`, `x-b3-spanid`.
    pub b3: Option<(&'a str, &'a str)>,
    pub b3_sampled: Option<&'a str>,
}

impl TraceContext {
    /// Join the incoming trace (traceparent first, then B3), or start one; `random`
    /// gives the new ids. Sampling follows the caller's flag, else `ratio` of trace ids.
    pub fn of(h: Headers<'_>, ratio: f64, mut random: impl FnMut() -> u64) -> TraceContext {
        let incoming = h.traceparent.and_then(parse_traceparent).or_else(|| {
            h.b3.and_then(|(t, s)| parse_b3(t, s))
                .map(|(t, s)| (t, s, b3_sampled(h.b3_sampled)))
        });
        let mut span_id = random().to_be_bytes();
        if span_id == [0; 8] {
            span_id[7] = 1;
        }
        match incoming {
            Some((trace_id, parent, sampled)) => TraceContext {
                trace_id,
                span_id,
                parent: Some(parent),
                sampled: sampled.unwrap_or_else(|| by_ratio(&trace_id, ratio)),
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
                    sampled: by_ratio(&trace_id, ratio),
                }
            }
        }
    }

    /// What the provider gets: our span as its parent, and our sampling choice.
    pub fn traceparent(&self) -> String {
        let flags = if self.sampled { "-01" } else { "-00" };
        crate::strs::concat(&["00-", &hex(&self.trace_id), "-", &hex(&self.span_id), flags])
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

    fn tp(v: &str) -> Headers<'_> {
        Headers {
            traceparent: Some(v),
            ..Headers::default()
        }
    }

    #[test]
    fn sampling_follows_the_caller_else_the_ratio_of_trace_ids() {
        // The caller said "not sampled": nothing recorded, and the provider is told so.
        let t = TraceContext::of(
            tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"),
            1.0,
            counter(),
        );
        assert!(!t.sampled);
        assert!(t.traceparent().ends_with("-00"));
        let b3 = |sampled| Headers {
            b3: Some(("a3ce929d0e0e4736", "00f067aa0ba902b7")),
            b3_sampled: sampled,
            ..Headers::default()
        };
        assert!(!TraceContext::of(b3(Some("0")), 1.0, counter()).sampled);
        assert!(TraceContext::of(b3(Some("1")), 0.0, counter()).sampled);
        // No choice from the caller: the ratio decides by the trace id's low half.
        assert!(!TraceContext::of(b3(None), 0.5, counter()).sampled); // 0xa3… is above half
        assert!(TraceContext::of(b3(None), 0.7, counter()).sampled);
        assert!(!TraceContext::of(Headers::default(), 0.0, counter()).sampled);
        assert!(TraceContext::of(Headers::default(), 1.0, counter()).sampled);
        // New traces from random ids: about the ratio of them, none at 0, all at 1.
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let n = (0..10_000)
            .filter(|_| TraceContext::of(Headers::default(), 0.25, &mut next).sampled)
            .count();
        assert!((2_200..2_800).contains(&n), "{n}");
    }

    #[test]
    fn joins_a_w3c_trace() {
        let t = TraceContext::of(
            tp("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            0.0,
            counter(),
        );
        assert!(t.sampled, "the caller's flag wins over the ratio");
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
            Headers {
                b3: Some(("a3ce929d0e0e4736", "00f067aa0ba902b7")),
                ..Headers::default()
            },
            1.0,
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
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-zz",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            let t = TraceContext::of(tp(bad), 1.0, counter());
            assert_eq!(t.parent, None, "{bad}");
            assert_ne!(t.trace_id, [0; 16]);
        }
    }
}
