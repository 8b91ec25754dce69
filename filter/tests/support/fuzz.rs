//! The fuzzers' deterministic random source, mutator and feeding loops.

use std::rc::Rc;

use llm_gateway::config::Config;
use llm_gateway::gateway::{Action, Exchange};
use llm_gateway::host::FakeHost;
use llm_gateway::translate::StreamMapper;

/// Pushes `data` into `m` in random pieces of 1 to `max_piece` bytes and finishes.
pub fn push_randomly(
    m: &mut dyn StreamMapper,
    data: &[u8],
    rng: &mut Rng,
    max_piece: usize,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let end = (pos + 1 + rng.below(max_piece)).min(data.len());
        m.push(&data[pos..end], &mut out);
        pos = end;
    }
    m.finish(&mut out);
    out
}

/// xorshift64: deterministic, so a failing round can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to five edits of JSON-ish text: delete, insert a JSON-significant or hostile
/// byte, overwrite, truncate and (with `splice`) copy a piece elsewhere.
pub fn mutate_json(rng: &mut Rng, input: &[u8], splice: bool) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        let i = rng.below(v.len() + 1);
        match rng.below(if splice { 6 } else { 5 }) {
            0 if !v.is_empty() => {
                v.remove(i.min(v.len() - 1));
            }
            1 => v.insert(i, b"{}[]\":,\\0-1eE \x00\xff\xc3"[rng.below(16)]),
            2 if !v.is_empty() => {
                let j = i.min(v.len() - 1);
                v[j] = rng.next() as u8;
            }
            3 => v.truncate(i),
            4 if splice => {
                let j = rng.below(v.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece = v[a..b].to_vec();
                v.splice(i..i, piece);
            }
            _ => {}
        }
    }
    v
}

/// Hands `body` to the exchange in random pieces, as Envoy would; returns the action
/// of the last piece the exchange took.
fn feed(x: &mut Exchange, h: &mut FakeHost, body: &[u8], rng: &mut Rng, response: bool) -> Action {
    let mut pos = 0;
    loop {
        let take = 1 + rng.below(body.len().max(1));
        let end = (pos + take).min(body.len());
        let eos = end == body.len();
        if response {
            h.response_body = body[pos..end].to_vec();
            let a = x.on_response_body(h, end - pos, eos);
            if eos {
                return a;
            }
        } else {
            // Envoy hands the accumulated buffer while we ask it to buffer.
            h.request_body = body[..end].to_vec();
            let a = x.on_request_body(h, end, eos);
            if a != Action::Buffer {
                return a;
            }
        }
        pos = end;
    }
}

/// The whole gateway flow, 3000 rounds: a request picked from `seeds` (path, body),
/// mutated three times in four, fed in random pieces; a refusal must be a 4xx local
/// reply, a forwarded request gets a random status, content type and (mostly mutated)
/// answer from `answers`. Returns how many requests were forwarded and refused.
pub fn fuzz_whole_flow(
    cfg: &Rc<Config>,
    rng: &mut Rng,
    seeds: &[(&str, &str)],
    answers: &[&[u8]],
) -> (u32, u32) {
    let (mut forwarded, mut refused) = (0, 0);
    for _ in 0..3000 {
        let (path, seed) = seeds[rng.below(seeds.len())];
        let body = if rng.below(4) == 0 {
            seed.as_bytes().to_vec()
        } else {
            mutate_json(rng, seed.as_bytes(), true)
        };
        let mut h = FakeHost::with_request(&[(":method", "POST"), (":path", path)]);
        h.randoms.push_back(rng.next());
        let mut x = Exchange::new(cfg.clone(), Default::default());
        if x.on_request_headers(&mut h, false) != Action::Pause {
            continue;
        }
        if feed(&mut x, &mut h, &body, rng, false) != Action::Continue {
            let status = h
                .local_response
                .as_ref()
                .expect("paused without a reply")
                .status;
            assert!((400..500).contains(&status), "{status}");
            refused += 1;
            continue;
        }
        forwarded += 1;
        let status = ["200", "200", "200", "400", "429", "500", "529", "", "abc"][rng.below(9)];
        let ctype = ["text/event-stream", "application/json", ""][rng.below(3)];
        let answer = answers[rng.below(answers.len())];
        let answer = if rng.below(3) == 0 {
            answer.to_vec()
        } else {
            mutate_json(rng, answer, true)
        };
        h.response_headers = vec![
            (":status".into(), status.into()),
            ("content-type".into(), ctype.into()),
        ];
        x.on_response_headers(&mut h, rng.below(20) == 0);
        feed(&mut x, &mut h, &answer, rng, true);
        x.on_log(&mut h);
    }
    (forwarded, refused)
}
