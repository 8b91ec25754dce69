//! OTLP/HTTP JSON (`ExportTraceServiceRequest`; the protobuf JSON mapping with the OTLP
//! exceptions: ids in hex, 64-bit integers as strings). JSON keeps protobuf out of the
//! filter; every collector accepts it on `/v1/traces` with `content-type: application/json`.

use serde::Serialize;

use super::span::{Span, Value};
use super::trace_context::hex;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Export<'a> {
    resource_spans: [ResourceSpans<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans<'a> {
    resource: Resource<'a>,
    scope_spans: [ScopeSpans<'a>; 1],
}

#[derive(Serialize)]
struct Resource<'a> {
    attributes: Vec<KeyValue<'a>>,
}

#[derive(Serialize)]
struct ScopeSpans<'a> {
    scope: Scope,
    spans: Vec<OtlpSpan<'a>>,
}

#[derive(Serialize)]
struct Scope {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan<'a> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    name: &'a str,
    /// SPAN_KIND_CLIENT: the gateway calls the model.
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue<'a>>,
    status: Status,
}

#[derive(Serialize)]
struct Status {
    /// 0 unset, 2 error.
    code: u8,
}

#[derive(Serialize)]
struct KeyValue<'a> {
    key: &'a str,
    value: AnyValue<'a>,
}

#[derive(Serialize)]
enum AnyValue<'a> {
    #[serde(rename = "stringValue")]
    Str(&'a str),
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "arrayValue")]
    Array { values: Vec<AnyValue<'a>> },
}

fn value(v: &Value) -> AnyValue<'_> {
    match v {
        Value::Str(s) => AnyValue::Str(s),
        Value::Int(n) => AnyValue::Int(n.to_string()),
        Value::Strs(list) => AnyValue::Array {
            values: list.iter().map(|s| AnyValue::Str(s)).collect(),
        },
    }
}

fn nanos(ms: u64) -> String {
    let mut s = ms.to_string();
    if ms > 0 {
        s.push_str("000000");
    }
    s
}

pub fn encode(service_name: &str, spans: &[Span]) -> Vec<u8> {
    let export = Export {
        resource_spans: [ResourceSpans {
            resource: Resource {
                attributes: vec![KeyValue {
                    key: "service.name",
                    value: AnyValue::Str(service_name),
                }],
            },
            scope_spans: [ScopeSpans {
                scope: Scope {
                    name: "llm-gateway",
                    version: env!("CARGO_PKG_VERSION"),
                },
                spans: spans
                    .iter()
                    .map(|s| OtlpSpan {
                        trace_id: hex(&s.ctx.trace_id),
                        span_id: hex(&s.ctx.span_id),
                        parent_span_id: s.ctx.parent.map(|p| hex(&p)),
                        name: &s.name,
                        kind: 3,
                        start_time_unix_nano: nanos(s.start_ms),
                        end_time_unix_nano: nanos(s.end_ms),
                        attributes: s
                            .attributes
                            .iter()
                            .map(|(k, v)| KeyValue {
                                key: k,
                                value: value(v),
                            })
                            .collect(),
                        status: Status {
                            code: if s.error { 2 } else { 0 },
                        },
                    })
                    .collect(),
            }],
        }],
    };
    serde_json::to_vec(&export).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::trace_context::TraceContext;

    #[test]
    fn encodes_the_otlp_json_mapping() {
        let span = Span {
            ctx: TraceContext {
                trace_id: [0xab; 16],
                span_id: [1; 8],
                parent: Some([2; 8]),
                sampled: true,
            },
            name: "chat gpt-4.1".into(),
            start_ms: 1_700_000_000_000,
            end_ms: 1_700_000_000_250,
            attributes: vec![
                ("gen_ai.request.model", Value::Str("gpt-4.1".into())),
                ("gen_ai.usage.input_tokens", Value::Int(12)),
                (
                    "gen_ai.response.finish_reasons",
                    Value::Strs(vec!["stop".into()]),
                ),
            ],
            error: true,
        };
        let v: serde_json::Value = serde_json::from_slice(&encode("gw", &[span])).unwrap();
        let rs = &v["resourceSpans"][0];
        assert_eq!(
            rs["resource"]["attributes"][0]["value"]["stringValue"],
            "gw"
        );
        let s = &rs["scopeSpans"][0]["spans"][0];
        assert_eq!(s["traceId"], "ab".repeat(16));
        assert_eq!(s["spanId"], "0101010101010101");
        assert_eq!(s["parentSpanId"], "0202020202020202");
        assert_eq!(s["kind"], 3);
        assert_eq!(s["startTimeUnixNano"], "1700000000000000000");
        assert_eq!(s["endTimeUnixNano"], "1700000000250000000");
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["attributes"][1]["value"]["intValue"], "12");
        assert_eq!(
            s["attributes"][2]["value"]["arrayValue"]["values"][0]["stringValue"],
            "stop"
        );
    }
}
