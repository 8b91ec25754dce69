//! A mock LLM provider (OpenAI Chat Completions and Embeddings, Anthropic Messages, Gemini, Vertex AI,
//! Bedrock Converse) for integration
//! See the README in this crate for the control API.

mod answer;
mod anthropic;
mod bedrock;
mod cli;
mod control;
mod count_tokens;
mod deliver;
mod embed_upstream;
mod embeddings;
mod eventstream;
mod faults;
mod gemini;
mod identity;
mod openai;
mod provider;
mod provider_counts;
mod reasoning;
mod record;
mod reply;
mod responses;
mod sse;
mod state;
mod vertex;

use std::io::Write;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

use crate::state::State;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = match cli::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-provider: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: cli::Args) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(&args.listen).await?;
    let state = Arc::new(State::new(args.name));
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve(stream, state.clone()));
                }
                Err(e) => eprintln!("mock-provider: accept: {e}"),
            },
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        }
    }
    Ok(())
}

async fn serve(stream: tokio::net::TcpStream, state: Arc<State>) {
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let state = state.clone();
        async move {
            if req.uri().path().starts_with(control::PREFIX) {
                control::handle(state, req).await
            } else if identity::is_identity_path(
                req.uri().path_and_query().map_or("/", |pq| pq.as_str()),
            ) {
                identity_endpoint(req).await
            } else {
                provider::handle(state, req).await
            }
        }
    });
    // Errors here are expected for resets and cuts; the connection just ends.
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

async fn identity_endpoint(
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<deliver::RespBody>, deliver::BoxError> {
    use http_body_util::BodyExt;
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(deliver::boxed)?.to_bytes();
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let a =
        identity::handle(&parts.method, path, &parts.headers, &body).unwrap_or(identity::Answer {
            status: 404,
            content_type: "text/plain",
            body: String::new(),
        });
    hyper::Response::builder()
        .status(a.status)
        .header("content-type", a.content_type)
        .body(deliver::full(a.body))
        .map_err(deliver::boxed)
}
