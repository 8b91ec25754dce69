//! The HTTP side: `POST /v1/admit`, `/v1/report`, `/v1/spend` with JSON bodies;
//! `GET /healthz`. Redis unreachable or slow: 503, which the filter treats as the store
//! being down (its failure policy).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use fleet_proto::{self as wire, AdmitRequest, Report, SpendRequest};
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Response, StatusCode};
use redis::aio::ConnectionManager;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::{Error, Store};

pub struct State {
    pub store: Store,
    pub con: ConnectionManager,
}

const MAX_BODY: usize = 16 * 1024 * 1024;

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: Vec<u8>) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, message: &str) -> Reply {
    let body =
        serde_json::to_vec(&serde_json::json!({"error": {"message": message}})).unwrap_or_default();
    reply(status, body)
}

fn ok<T: Serialize>(v: &T) -> Reply {
    match serde_json::to_vec(v) {
        Ok(b) => reply(StatusCode::OK, b),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

fn failed(e: Error) -> Reply {
    match e {
        Error::Invalid(m) => error(StatusCode::BAD_REQUEST, &m),
        Error::Redis(e) => {
            eprintln!("llm-store: redis: {e}");
            error(StatusCode::SERVICE_UNAVAILABLE, "redis unavailable")
        }
    }
}

async fn body<T: DeserializeOwned>(req: Request<hyper::body::Incoming>) -> Result<T, Reply> {
    let bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body too large or cut",
            ))
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| error(StatusCode::BAD_REQUEST, &e.to_string()))
}

pub async fn handle(
    state: Arc<State>,
    req: Request<hyper::body::Incoming>,
) -> Result<Reply, Infallible> {
    let mut con = state.con.clone();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let out = match (method, path.as_str()) {
        (Method::GET, "/healthz") => ok(&serde_json::json!({"ok": true})),
        (Method::POST, wire::ADMIT_PATH) => match body::<AdmitRequest>(req).await {
            Ok(r) => state
                .store
                .admit(&mut con, &r)
                .await
                .map_or_else(failed, |a| ok(&a)),
            Err(e) => e,
        },
        (Method::POST, wire::REPORT_PATH) => match body::<Report>(req).await {
            Ok(r) => state
                .store
                .report(&mut con, &r)
                .await
                .map_or_else(failed, |applied| {
                    ok(&serde_json::json!({"applied": applied}))
                }),
            Err(e) => e,
        },
        (Method::POST, wire::SPEND_PATH) => match body::<SpendRequest>(req).await {
            Ok(r) => state
                .store
                .spend(&mut con, &r)
                .await
                .map_or_else(failed, |a| ok(&a)),
            Err(e) => e,
        },
        _ => error(StatusCode::NOT_FOUND, "no such endpoint"),
    };
    Ok(out)
}
