//! Usage an upstream reports beyond what the request could cost is refused, never
//! charged: budgets, ledgers and counters stay as if the answer had reported none.

use std::rc::Rc;

use super::{Action, Exchange};
use crate::config::{parse, Config};
use crate::host::FakeHost;
use crate::limits::auth::hash;
use crate::state::ledger;
use crate::state::periods::{self, Scope};
use crate::usage::metrics;

fn cfg() -> Rc<Config> {
    let sha: String = hash("sk-one").iter().map(|b| format!("{b:02x}")).collect();
    let doc = format!(
        r#"{{
      "providers": [{{"name":"oa","kind":"openai","cluster":"c"}},
                    {{"name":"an","kind":"anthropic","cluster":"d"}}],
      "models": [{{"name":"m","targets":[{{"provider":"oa","model":"gpt"}}]}},
                 {{"name":"c","targets":[{{"provider":"an","model":"claude"}}]}}],
      "prices": [{{"model":"gpt","input":1,"output":1}},{{"model":"claude","input":1,"output":1}}],
      "access": {{"keys": [{{"name":"k1","sha256":"{sha}","budget_usd":1,"budget_period":"day"}}]}}
    }}"#
    );
    Rc::new(parse(doc.as_bytes(), &|_| Some("x".into())).unwrap())
}

/// One answered request; returns the client's status and the host after `on_log`.
fn call(cfg: &Rc<Config>, shared: FakeHost, model: &str, answer: &str) -> (u16, FakeHost) {
    let mut h = FakeHost::with_request(&[
        (":method", "POST"),
        (":path", "/v1/chat/completions"),
        ("authorization", "Bearer sk-one"),
    ]);
    h.shared = shared.shared;
    h.counters = shared.counters;
    h.now_ms = 1_000;
    h.request_body = format!(
        r#"{{"model":"{model}","max_tokens":50,"messages":[{{"role":"user","content":"hello"}}]}}"#
    )
    .into_bytes();
    let mut x = Exchange::new(cfg.clone(), Default::default());
    x.on_request_headers(&mut h, false);
    let n = h.request_body.len();
    if x.on_request_body(&mut h, n, true) != Action::Continue {
        let status = h.local_response.as_ref().map_or(0, |r| r.status);
        return (status, h);
    }
    h.response_headers = vec![
        (":status".into(), "200".into()),
        ("content-type".into(), "application/json".into()),
    ];
    h.response_body = answer.as_bytes().to_vec();
    x.on_response_headers(&mut h, false);
    x.on_response_body(&mut h, answer.len(), true);
    x.on_log(&mut h);
    (200, h)
}

fn errors(h: &FakeHost, model: &str, provider: &str, upstream: &str, kind: &str) -> u64 {
    let want = [
        format!(".{}.{model}.", metrics::MODEL),
        format!(".{}.{provider}.", metrics::LLM_PROVIDER),
        format!(".{}.{upstream}.", metrics::RESPONSE_MODEL),
    ];
    let end = format!(".{}.{kind}", metrics::ERROR_TYPE);
    h.counters
        .iter()
        .filter(|(n, _)| n.starts_with(metrics::ERRORS) && n.ends_with(&end))
        .filter(|(n, _)| want.iter().all(|w| n.contains(w.as_str())))
        .map(|(_, v)| *v)
        .sum()
}

#[test]
fn implausible_usage_is_refused_and_never_saturates_a_ledger() {
    let cfg = cfg();
    let huge = r#"{"choices":[],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":18446744073709551615,"total_tokens":18446744073709551615}}"#;
    // Anthropic's prompt is a sum of three counts: it must not wrap to a small number.
    let wraps = r#"{"id":"x","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":"end_turn","usage":{"input_tokens":18446744073709551615,"cache_read_input_tokens":2,"output_tokens":1}}"#;
    for (model, provider, upstream, answer) in
        [("m", "oa", "gpt", huge), ("c", "an", "claude", wraps)]
    {
        let (status, h) = call(&cfg, FakeHost::default(), model, answer);
        assert_eq!(status, 200);
        let day = periods::read(
            &h,
            Scope::Key,
            "k1",
            crate::config::access::Period::Day,
            1_000,
        );
        // Charged as an answer without usage: the prompt estimate, no completion.
        assert_eq!(day.requests, 1);
        assert_eq!(day.errors, 1, "counted as an upstream error");
        assert!(day.prompt_tokens < 100, "{day:?}");
        assert_eq!(day.completion_tokens, 0);
        assert!(day.cost_nano_usd < 100_000, "{day:?}");
        let row = ledger::read(&h, &crate::state::keys::usage(model, provider, upstream)).unwrap();
        assert!(
            row[ledger::PROMPT_TOKENS] < 100 && row[ledger::ERRORS] == 1,
            "{row:?}"
        );
        assert_eq!(
            errors(&h, model, provider, upstream, "implausible_usage"),
            1
        );
        assert!(h.log_fields["llm"].contains("usage=implausible"));
        // The budget is not spent: the key goes on.
        let (status, _) = call(&cfg, h, model, answer);
        assert_eq!(status, 200);
    }
}

#[test]
fn plausible_usage_is_charged_as_reported() {
    let cfg = cfg();
    // Within the request's bounds (max_tokens 50 + the allowances).
    let fine = r#"{"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050}}"#;
    let (_, h) = call(&cfg, FakeHost::default(), "m", fine);
    let day = periods::read(
        &h,
        Scope::Key,
        "k1",
        crate::config::access::Period::Day,
        1_000,
    );
    assert_eq!(
        (day.prompt_tokens, day.completion_tokens, day.errors),
        (1000, 50, 0)
    );
    assert_eq!(errors(&h, "m", "oa", "gpt", "implausible_usage"), 0);
    // Completion far beyond max_tokens is not.
    let long = r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":100000000,"total_tokens":100000010}}"#;
    let (_, h) = call(&cfg, h, "m", long);
    let day = periods::read(
        &h,
        Scope::Key,
        "k1",
        crate::config::access::Period::Day,
        1_000,
    );
    assert_eq!((day.completion_tokens, day.errors), (50, 1));
}
