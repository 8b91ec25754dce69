#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::disallowed_types
)]
//! Bounded, deterministic fuzzing of the Bedrock pieces natively: the event stream
//! decoder and stream mapper with hostile bytes (also with valid CRCs around mutated
//! headers and payloads, so the parsers behind the CRC check are reached), and the
//! request/response translators with mutated JSON. Any panic fails the test.

use std::fs;
use std::path::Path;

use llm_gateway::api::openai::ChatRequest;
use llm_gateway::codec::crc32::crc32;
use llm_gateway::codec::eventstream::Decoder;
use llm_gateway::translate::{self, ResponseMeta, StreamSettings};

mod bedrock_common;
mod support;
use support::fuzz::{push_randomly, Rng};
use support::golden::body_bytes;

/// Byte-level edits (random bytes, bit flips), for the binary transcripts and JSON alike.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(3) {
        let i = rng.below(v.len() + 1);
        match rng.below(5) {
            0 if !v.is_empty() => {
                v.remove(i.min(v.len() - 1));
            }
            1 => v.insert(i, rng.next() as u8),
            2 if !v.is_empty() => {
                let j = i.min(v.len() - 1);
                v[j] ^= 1 << rng.below(8);
            }
            3 => v.truncate(i),
            _ => {
                let j = rng.below(v.len() + 1);
                let (a, b) = (i.min(j), i.max(j));
                let piece = v[a..b].to_vec();
                v.splice(i..i, piece);
            }
        }
    }
    v
}

/// Splits a transcript into messages by their length prefix (valid input only).
fn messages(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let n = u32::from_be_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
        if n < 16 || pos + n > data.len() {
            break;
        }
        out.push(data[pos..pos + n].to_vec());
        pos += n;
    }
    out
}

/// Mutates the headers/payload of a message and re-frames it with correct CRCs.
fn remutate_inside(rng: &mut Rng, msg: &[u8]) -> Vec<u8> {
    let headers_len = u32::from_be_bytes(msg[4..8].try_into().unwrap()) as usize;
    let inner = &msg[12..msg.len() - 4];
    let mut inner = mutate(rng, inner);
    let mut headers_len = headers_len.min(inner.len());
    if rng.below(4) == 0 {
        headers_len = rng.below(inner.len() + 1);
    }
    if inner.len() > 1000 {
        inner.truncate(1000);
    }
    let total = (12 + inner.len() + 4) as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(headers_len as u32).to_be_bytes());
    let c = crc32(&out);
    out.extend_from_slice(&c.to_be_bytes());
    out.extend_from_slice(&inner);
    let c = crc32(&out);
    out.extend_from_slice(&c.to_be_bytes());
    out
}

fn transcripts() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bedrock/streams");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".in.bin"))
        .collect();
    paths.sort();
    paths.iter().map(|p| fs::read(p).unwrap()).collect()
}

#[test]
fn fuzz_stream_mapper_and_decoder() {
    let cfg = bedrock_common::golden_config();
    let provider = &cfg.providers[0];
    let inputs = transcripts();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for round in 0..20_000 {
        let base = &inputs[rng.below(inputs.len())];
        let data = match round % 3 {
            0 => mutate(&mut rng, base),
            1 => {
                let mut msgs = messages(base);
                if !msgs.is_empty() {
                    let k = rng.below(msgs.len());
                    msgs[k] = remutate_inside(&mut rng, &msgs[k]);
                }
                msgs.concat()
            }
            _ => base.clone(),
        };
        let mut m = translate::stream(
            provider,
            StreamSettings {
                client_wants_usage: rng.below(2) == 0,
                created: 1,
            },
            &ResponseMeta {
                model: "m",
                header: &|_| None,
            },
        );
        let out = push_randomly(m.as_mut(), &data, &mut rng, 64);
        // Whatever came in, the client gets a well-terminated SSE stream.
        assert!(out.ends_with(b"data: [DONE]\n\n"), "round {round}");
        let text = String::from_utf8(out).unwrap();
        for ev in text.split_terminator("\n\n") {
            let data = ev.strip_prefix("data: ").unwrap();
            if data != "[DONE]" {
                serde_json::from_str::<serde_json::Value>(data).unwrap();
            }
        }
        // The decoder alone, fed at once, agrees on whether the bytes are well framed.
        let mut d = Decoder::new(1 << 20);
        let _ = d.push(&data, &mut Vec::new());
    }
}

#[test]
fn fuzz_translators() {
    let cfg = bedrock_common::golden_config();
    let provider = &cfg.providers[0];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/bedrock");
    let load = |sub: &str, key: &str| -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = fs::read_dir(root.join(sub))
            .unwrap()
            .map(|e| {
                let doc: serde_json::Value =
                    serde_json::from_slice(&fs::read(e.unwrap().path()).unwrap()).unwrap();
                body_bytes(&doc[key])
            })
            .collect();
        v.sort();
        v
    };
    let requests = load("requests", "openai_request");
    let answers = load("responses", "bedrock_response");
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut translated = 0;
    for _ in 0..10_000 {
        let pick = rng.below(requests.len());
        let raw = if rng.below(4) == 0 {
            requests[pick].clone()
        } else {
            mutate(&mut rng, &requests[pick])
        };
        if let Ok(req) = serde_json::from_slice::<ChatRequest>(&raw) {
            if let Ok(up) = translate::request(provider, "a.b:c/d", &req, &raw, rng.next() >> 20) {
                serde_json::from_slice::<serde_json::Value>(&up.body.unwrap()).unwrap();
                translated += 1;
            }
        }
        let pick = rng.below(answers.len());
        let body = mutate(&mut rng, &answers[pick]);
        let status = [200, 200, 400, 403, 408, 429, 500, 503, 0][rng.below(9)];
        let kinds = [
            "ThrottlingException",
            "",
            "x:y#z",
            ":::",
            "ValidationException:http://a",
        ];
        let kind = kinds[rng.below(kinds.len())];
        let header =
            |n: &str| (n == "x-amzn-errortype" && !kind.is_empty()).then(|| kind.to_string());
        let meta = ResponseMeta {
            model: "m",
            header: &header,
        };
        match translate::response(provider, status, &body, 1, &meta) {
            Ok(out) => {
                serde_json::from_slice::<serde_json::Value>(&out.body.unwrap()).unwrap();
            }
            Err(e) => assert!(e.status >= 400, "{e:?}"),
        }
    }
    assert!(translated > 1000, "only {translated} requests translated");
}
