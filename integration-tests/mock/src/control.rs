//! The `/__mock/` control API (never recorded, never faulted).

use std::sync::Arc;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};

use crate::deliver::{boxed, full, BoxError, RespBody};
use crate::faults::{self, FaultSpec};
use crate::state::State;

pub const PREFIX: &str = "/__mock/";

fn respond(status: u16, content_type: &str, body: String) -> Result<Response<RespBody>, BoxError> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(full(body))
        .map_err(boxed)
}

fn json(status: u16, body: String) -> Result<Response<RespBody>, BoxError> {
    respond(status, "application/json", body)
}

fn bad_request(msg: &str) -> Result<Response<RespBody>, BoxError> {
    json(400, serde_json::json!({ "error": msg }).to_string())
}

pub async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, BoxError> {
    let method = req.method().clone();
    let route = req
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .unwrap_or("")
        .to_string();
    let body = req.into_body().collect().await.map_err(boxed)?.to_bytes();
    match (method, route.as_str()) {
        (Method::GET, "health") => respond(200, "text/plain", "ok".into()),
        (Method::GET, "requests") => json(200, state.records_json()),
        (Method::DELETE, "requests") => {
            state.clear();
            respond(200, "text/plain", "ok".into())
        }
        (Method::GET, "faults") => json(200, state.faults_json()),
        (Method::POST, "faults") => match faults::parse_list(&body) {
            Ok(specs) => {
                state.push_faults(specs);
                json(200, state.faults_json())
            }
            Err(e) => bad_request(&format!("invalid fault list: {e}")),
        },
        (Method::DELETE, "faults") => {
            state.clear_faults();
            respond(200, "text/plain", "ok".into())
        }
        (Method::POST, "default_fault") => match serde_json::from_slice::<Option<FaultSpec>>(&body)
        {
            Ok(spec) => {
                state.set_default_fault(spec);
                json(200, state.faults_json())
            }
            Err(e) => bad_request(&format!("invalid fault spec: {e}")),
        },
        (Method::GET, "identity") => json(200, crate::identity::report()),
        (Method::POST, "identity") => match serde_json::from_slice(&body) {
            Ok(settings) => {
                crate::identity::configure(settings);
                json(200, crate::identity::report())
            }
            Err(e) => bad_request(&format!("invalid identity settings: {e}")),
        },
        _ => json(
            404,
            serde_json::json!({"error": "unknown control endpoint"}).to_string(),
        ),
    }
}
