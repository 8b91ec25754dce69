//! The golden-file harness: `testdata/` cases, the `UPDATE_GOLDEN` switch, the JSON
//! forms of translated requests and answers, and the stream split checks.

use std::fs;
use std::path::{Path, PathBuf};

use llm_gateway::error::GatewayError;
use llm_gateway::translate::{ResponseMeta, ResponseOut, StreamMapper, UpstreamRequest};
use serde_json::{json, Value};

/// The `created` timestamp of every golden answer.
pub const CREATED: u64 = 1_700_000_000;

pub fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(sub)
}

/// `UPDATE_GOLDEN=1` rewrites the expectations instead of comparing with them.
pub fn update() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok()
}

/// The files of `testdata/<sub>` ending in `suffix`, sorted, as (name without suffix, path).
pub fn cases(sub: &str, suffix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = fs::read_dir(dir(sub))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let name = p.file_name()?.to_str()?.strip_suffix(suffix)?.to_string();
            Some((name, p))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases in {sub}");
    out
}

pub fn read_doc(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

/// A recorded body: a JSON string is sent verbatim, anything else serialised.
pub fn body_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.clone().into_bytes(),
        v => serde_json::to_vec(v).unwrap(),
    }
}

/// `err_*` cases, and only they, must come out with `err_key` set.
pub fn assert_err_iff_named(name: &str, got: &Value, err_key: &str) {
    assert_eq!(
        name.starts_with("err_"),
        got.get(err_key).is_some(),
        "{name}: {got}"
    );
}

/// Compares `doc[key]` with `got`, or (with `UPDATE_GOLDEN`) writes `got` there.
pub fn check_or_write(path: &Path, mut doc: Value, key: &str, got: Value) {
    if update() {
        doc[key] = got;
        fs::write(path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(doc[key], got, "{}", path.display());
}

/// An upstream request as the golden files hold it (`null` body = forwarded unchanged).
pub fn upstream_json(up: &UpstreamRequest) -> Value {
    let body = up
        .body
        .as_ref()
        .map(|b| serde_json::from_slice::<Value>(b).unwrap())
        .unwrap_or(Value::Null);
    let headers: Value = up
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json!({"path": up.path, "headers": headers, "body": body})
}

/// A refused request as the golden files hold it.
pub fn error_json(e: &GatewayError) -> Value {
    json!({"error": {"status": e.status, "param": e.param, "message": e.message}})
}

pub fn request_json(result: Result<UpstreamRequest, GatewayError>) -> Value {
    match result {
        Ok(up) => upstream_json(&up),
        Err(e) => error_json(&e),
    }
}

/// A translated answer as the golden files hold it.
pub fn answer_json(out: ResponseOut) -> Value {
    let mut usage = json!({"prompt": out.usage.prompt, "completion": out.usage.completion,
                           "cached_prompt": out.usage.cached_prompt});
    with_reasoning(&mut usage, out.usage.reasoning);
    json!({
        "body": out.body.map(|b| serde_json::from_slice::<Value>(&b).unwrap()),
        "usage": usage,
    })
}

/// `reasoning` is recorded only where a provider reports it, so older cases stay as they are.
fn with_reasoning(usage: &mut Value, reasoning: Option<u64>) {
    if let (Some(r), Some(map)) = (reasoning, usage.as_object_mut()) {
        map.insert("reasoning".into(), json!(r));
    }
}

fn no_header(_: &str) -> Option<String> {
    None
}

/// Translators that need neither the model nor response headers get this.
pub fn meta(model: &str) -> ResponseMeta<'_> {
    ResponseMeta {
        model,
        header: &no_header,
    }
}

/// Feeds `input` chunk by chunk and finishes; returns the output and the usage summary
/// (`cached_prompt` only where the golden files record it).
pub fn run_mapper(
    mut m: Box<dyn StreamMapper>,
    input: &[&[u8]],
    with_cached: bool,
) -> (Vec<u8>, Value) {
    let mut out = Vec::new();
    for chunk in input {
        m.push(chunk, &mut out);
    }
    m.finish(&mut out);
    let u = m.usage();
    let mut meta = if with_cached {
        json!({"prompt": u.prompt, "completion": u.completion,
               "cached_prompt": u.cached_prompt, "failed": m.failed()})
    } else {
        json!({"prompt": u.prompt, "completion": u.completion, "failed": m.failed()})
    };
    with_reasoning(&mut meta, u.reasoning);
    (out, meta)
}

/// Which splits of a transcript [`check_stream`] tries besides the whole and byte by byte.
#[derive(Clone, Copy)]
pub struct Splits {
    /// Also compare the usage summary at every two-way split.
    pub meta_each: bool,
    /// Also a sweep of three-way splits.
    pub three_way: bool,
}

/// One stream transcript `path` (case `name`): the output of `run` must be
/// `<name>.out.sse` and its summary `<name>.meta.json` (both rewritten with
/// `UPDATE_GOLDEN`), fed whole, split at every byte offset and byte by byte. Returns
/// the input and the expected output.
pub fn check_stream(
    name: &str,
    path: &Path,
    run: impl Fn(&[&[u8]]) -> (Vec<u8>, Value),
    splits: Splits,
) -> (Vec<u8>, Vec<u8>) {
    let input = fs::read(path).unwrap();
    let out_path = path.with_file_name(format!("{name}.out.sse"));
    let meta_path = path.with_file_name(format!("{name}.meta.json"));
    let (out, meta) = run(&[&input]);
    if update() {
        fs::write(&out_path, &out).unwrap();
        fs::write(
            &meta_path,
            serde_json::to_string_pretty(&meta).unwrap() + "\n",
        )
        .unwrap();
    }
    let expected = fs::read(&out_path).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&expected),
        "{name}"
    );
    let expected_meta: Value = serde_json::from_slice(&fs::read(&meta_path).unwrap()).unwrap();
    assert_eq!(meta, expected_meta, "{name}");

    // Every single split point, and a sweep of three-way splits.
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        let (got, got_meta) = run(&[a, b]);
        assert_eq!(got, expected, "{name} split at {i}");
        if splits.meta_each {
            assert_eq!(got_meta, expected_meta, "{name} split at {i}");
        }
    }
    if splits.three_way {
        for i in (0..=input.len()).step_by(7) {
            for j in (i..=input.len()).step_by(13) {
                let parts = [&input[..i], &input[i..j], &input[j..]];
                assert_eq!(run(&parts).0, expected, "{name} split at {i},{j}");
            }
        }
    }
    // One byte at a time.
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&bytes).0, expected, "{name} byte by byte");
    (input, expected)
}

/// The expected OpenAI stream for a client without `include_usage`: the same events
/// minus the usage-only chunk.
pub fn without_usage_chunk(expected: &[u8]) -> Vec<u8> {
    String::from_utf8(expected.to_vec())
        .unwrap()
        .split_inclusive("\n\n")
        .filter(|ev| !ev.contains("\"choices\":[],\"usage\""))
        .collect::<String>()
        .into_bytes()
}
