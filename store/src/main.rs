//! `llm-store`: fleet mode's store adapter. Envoy's filter cannot speak Redis; it calls
//! this over HTTP/1.1 (an Envoy cluster), and each call is one atomic Redis script
//! (`scripts`). Stateless: run one next to each Envoy or a few behind a Service.
//!
//! `llm-store --listen 127.0.0.1:18090 --redis redis://127.0.0.1:6379/ [--prefix '{llmgw}:']`
//! `llm-store key add|revoke|list …`: runtime keys (`cli_keys`).

mod cli_keys;
mod http;
mod keys;
mod scripts;
mod store;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

struct Args {
    listen: String,
    redis: String,
    prefix: String,
    timeout_ms: u64,
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        listen: "127.0.0.1:18090".into(),
        redis: "redis://127.0.0.1:6379/".into(),
        prefix: "{llmgw}:".into(),
        timeout_ms: 200,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => a.listen = value()?,
            "--redis" => a.redis = value()?,
            "--prefix" => a.prefix = value()?,
            "--timeout-ms" => {
                a.timeout_ms = value()?
                    .parse()
                    .map_err(|_| "--timeout-ms needs a number".to_string())?
            }
            _ => {
                return Err(format!(
                    "unknown argument {flag}\nusage: llm-store [--listen ADDR] [--redis URL] [--prefix P] [--timeout-ms N]"
                ))
            }
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().is_some_and(|a| a == "key") {
        argv.next();
        return match cli_keys::run(argv).await {
            Ok(out) => {
                println!("{out}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("llm-store key: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    let args = match parse(argv) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("llm-store: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    // The URL may hold a password: never printed.
    let client = redis::Client::open(args.redis.as_str())?;
    let timeout = Some(Duration::from_millis(args.timeout_ms));
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(timeout)
        .set_response_timeout(timeout)
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    // Lazy: the adapter starts (and answers 503) while Redis is still down.
    let con = ConnectionManager::new_lazy_with_config(client, config)?;
    let state = Arc::new(http::State {
        store: store::Store::new(args.prefix),
        con,
    });
    let listener = TcpListener::bind(&args.listen).await?;
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
                    let state = state.clone();
                    tokio::spawn(async move {
                        let service = service_fn(move |req| http::handle(state.clone(), req));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Err(e) => eprintln!("llm-store: accept: {e}"),
            },
            _ = sigterm.recv() => break,
            _ = sigint.recv() => break,
        }
    }
    Ok(())
}
