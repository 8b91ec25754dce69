//! The HTTP stream model: what Envoy's filter manager does around the plugin's callbacks.
//!
//! Request side (the response side is the mirror image, with "client" for "upstream"):
//! * headers callback → `Continue`: the headers go upstream now and the plugin loses access to
//!   the request header map (Envoy nulls its pointer); `Pause`: the headers are held and stay
//!   readable/writable in later callbacks (needs `allow_on_headers_stop_iteration`, otherwise
//!   the body callbacks never come and the stream hangs — reported as an error).
//! * body callback: the body buffer is the current chunk, or, after a `Pause`
//!   (StopIterationAndBuffer), everything buffered so far *including* the current chunk.
//!   `Continue` forwards held headers (as modified until then), then the buffer.
//! * `proxy_send_local_response` takes effect after the callback returns: the request stops,
//!   and the reply goes through the plugin's own response callbacks (when no upstream
//!   response has started) before reaching the client.

use anyhow::{bail, Result};

use crate::abi::Status;
use crate::headers::HeaderMap;
use crate::host::LogEntry;
use crate::vm::{len32, len32_n, HttpCall, Vm};

/// What a callback returned (`proxy_action_t`), or that it was not called at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// `Pause`: StopIteration for headers, StopIterationAndBuffer for bodies.
    Pause,
    /// The stream had already ended (local reply, reset) so Envoy would not call the plugin.
    NotCalled,
}

/// A `proxy_send_local_response` as the plugin asked for it, with the headers Envoy builds from
/// it (`:status`, the plugin's headers, `content-length`, default `content-type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u32,
    pub details: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub grpc_status: i32,
}

/// A `proxy_call_foreign_function` made by a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignCall {
    pub name: String,
    pub args: Vec<u8>,
    /// Status returned to the plugin (0 Ok, 1 NotFound for unknown functions).
    pub status: u32,
    /// Whether the request headers had already gone upstream (for `clear_route_cache` that is
    /// too late: Envoy has already picked the route).
    pub request_headers_forwarded: bool,
}

#[derive(Default)]
pub(crate) struct Side {
    /// The live header map (what header calls modify).
    pub headers: HeaderMap,
    pub headers_received: bool,
    /// Envoy's `request_headers_`/`response_headers_` pointer is set.
    pub headers_accessible: bool,
    /// Headers callback paused and nothing has released them yet.
    pub headers_held: bool,
    pub trailers: Option<HeaderMap>,
    pub trailers_accessible: bool,
    pub trailers_held: bool,
    /// What `HttpRequestBody`/`HttpResponseBody` refers to right now (None: no buffer; reads
    /// give nothing, writes fail with BadArgument).
    pub body: Option<Vec<u8>>,
    /// The last body callback paused: Envoy buffers and hands the accumulated body next time.
    pub buffering: bool,
    pub end_of_stream_in: bool,
    /// Headers paused without `allow_on_headers_stop_iteration`.
    pub stalled: bool,
    // What went out (upstream for the request side, to the client for the response side).
    pub out_headers: Option<HeaderMap>,
    pub out_body: Vec<u8>,
    pub out_chunks: Vec<Vec<u8>>,
    pub out_trailers: Option<HeaderMap>,
    pub out_complete: bool,
}

#[derive(Default)]
pub(crate) struct HttpStream {
    pub req: Side,
    pub resp: Side,
    pub properties: std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    pub local_reply: Option<LocalReply>,
    pub pending_local_reply: Option<LocalReply>,
    pub continue_request: bool,
    pub continue_response: bool,
    pub reset_requested: bool,
    /// No more callbacks for the request (and upstream response) side.
    pub ended: bool,
    pub reset: bool,
    pub upstream_reset: bool,
    /// The local reply is being pushed through the plugin's response callbacks.
    pub in_local_reply: bool,
    pub foreign_calls: Vec<ForeignCall>,
    /// Route-cache clears while the request headers were still held: Envoy clears it on every
    /// request-header change a plugin makes (`onHeadersModified`) and on `clear_route_cache`.
    pub route_cache_clears: usize,
    pub logs: Vec<LogEntry>,
    pub warnings: Vec<String>,
    pub http_calls: Vec<HttpCall>,
    pub access_log_phase: bool,
    pub finished: bool,
    pub deleted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Dir {
    Request,
    Response,
}

impl HttpStream {
    fn side(&mut self, dir: Dir) -> &mut Side {
        match dir {
            Dir::Request => &mut self.req,
            Dir::Response => &mut self.resp,
        }
    }
}

/// Releases what a side holds: headers, the buffered body and (if complete) the end of stream.
fn release(side: &mut Side) {
    if side.headers_held {
        side.headers_held = false;
        side.out_headers = Some(side.headers.clone());
    }
    if let Some(body) = side.body.take() {
        if !body.is_empty() {
            side.out_body.extend_from_slice(&body);
            side.out_chunks.push(body);
        }
    }
    side.buffering = false;
    if side.trailers_held {
        side.trailers_held = false;
        side.out_trailers = side.trailers.clone();
    }
    if side.end_of_stream_in && side.out_headers.is_some() {
        side.out_complete = true;
    }
}

impl Vm {
    fn stream_mut(&mut self, id: u32) -> Result<&mut HttpStream> {
        match self.store.data_mut().streams.get_mut(&id) {
            Some(s) => Ok(s),
            None => bail!("no HTTP stream with context id {id}"),
        }
    }

    fn check_open(&mut self, id: u32) -> Result<()> {
        let s = self.stream_mut(id)?;
        if s.finished {
            bail!("stream {id} is already finished");
        }
        Ok(())
    }

    fn action_of(&self, callback: &str, raw: u32) -> Result<Action> {
        match raw {
            0 => Ok(Action::Continue),
            1 => Ok(Action::Pause),
            other => bail!(
                "{callback} returned {other}; the Rust SDK only returns Continue (0) or Pause (1)"
            ),
        }
    }

    pub(crate) fn send_headers(
        &mut self,
        id: u32,
        dir: Dir,
        headers: HeaderMap,
        end_of_stream: bool,
    ) -> Result<Action> {
        self.check_open(id)?;
        let allow_stop = self.store.data().config.allow_on_headers_stop_iteration;
        {
            let s = self.stream_mut(id)?;
            if s.ended {
                return Ok(Action::NotCalled);
            }
            if dir == Dir::Response && s.req.out_headers.is_none() {
                bail!(
                    "stream {id}: response headers sent, but the request never reached upstream \
                     (its headers are still held by the plugin)"
                );
            }
            let side = s.side(dir);
            if side.headers_received {
                bail!("stream {id}: {dir:?} headers were already sent");
            }
            side.headers = headers;
            side.headers_received = true;
            side.headers_accessible = true;
            side.end_of_stream_in = end_of_stream;
        }
        let n = len32_n(self.stream_mut(id)?.side(dir).headers.len());
        let eos = u32::from(end_of_stream);
        let (name, f) = match dir {
            Dir::Request => (
                "proxy_on_request_headers",
                self.exports.on_request_headers.clone(),
            ),
            Dir::Response => (
                "proxy_on_response_headers",
                self.exports.on_response_headers.clone(),
            ),
        };
        let raw = match f {
            Some(f) => self.invoke(name, id, |st| f.call(st, (id, n, eos)))?,
            None => 0,
        };
        let action = self.action_of(name, raw)?;
        self.after_headers(id, dir, action, allow_stop)?;
        self.run_after_call_actions()?;
        self.pump()?;
        Ok(action)
    }

    fn after_headers(&mut self, id: u32, dir: Dir, action: Action, allow_stop: bool) -> Result<()> {
        let s = self.stream_mut(id)?;
        if s.pending_local_reply.is_some() || (s.ended && !s.in_local_reply) {
            return Ok(());
        }
        let side = s.side(dir);
        match action {
            Action::Continue => {
                side.headers_accessible = false;
                side.out_headers = Some(side.headers.clone());
                if side.end_of_stream_in {
                    side.out_complete = true;
                }
            }
            _ => {
                side.headers_held = true;
                if !allow_stop {
                    side.stalled = true;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn send_body(
        &mut self,
        id: u32,
        dir: Dir,
        chunk: &[u8],
        end_of_stream: bool,
    ) -> Result<Action> {
        self.check_open(id)?;
        {
            let s = self.stream_mut(id)?;
            if s.ended && !(dir == Dir::Response && s.in_local_reply) {
                return Ok(Action::NotCalled);
            }
            let side = s.side(dir);
            if !side.headers_received {
                bail!("stream {id}: {dir:?} body sent before the headers");
            }
            if side.end_of_stream_in {
                bail!("stream {id}: {dir:?} body sent after end_of_stream");
            }
            if side.stalled {
                bail!(
                    "stream {id}: the {dir:?} headers callback returned Pause without \
                     allow_on_headers_stop_iteration, so Envoy never delivers the body: the \
                     stream hangs"
                );
            }
            side.end_of_stream_in = end_of_stream;
            let mut body = if side.buffering {
                side.body.take().unwrap_or_default()
            } else {
                Vec::new()
            };
            body.extend_from_slice(chunk);
            side.body = Some(body);
        }
        let size = len32(
            self.stream_mut(id)?
                .side(dir)
                .body
                .as_deref()
                .unwrap_or(&[]),
        );
        let eos = u32::from(end_of_stream);
        let (name, f) = match dir {
            Dir::Request => (
                "proxy_on_request_body",
                self.exports.on_request_body.clone(),
            ),
            Dir::Response => (
                "proxy_on_response_body",
                self.exports.on_response_body.clone(),
            ),
        };
        let raw = match f {
            Some(f) => self.invoke(name, id, |st| f.call(st, (id, size, eos)))?,
            None => 0,
        };
        let action = self.action_of(name, raw)?;
        {
            let s = self.stream_mut(id)?;
            let skip = s.pending_local_reply.is_some() || (s.ended && !s.in_local_reply);
            let side = s.side(dir);
            if !skip {
                side.buffering = false;
                match action {
                    Action::Continue => release(side),
                    _ => side.buffering = true,
                }
            }
        }
        self.run_after_call_actions()?;
        self.pump()?;
        Ok(action)
    }

    pub(crate) fn send_trailers(
        &mut self,
        id: u32,
        dir: Dir,
        trailers: HeaderMap,
    ) -> Result<Action> {
        self.check_open(id)?;
        {
            let s = self.stream_mut(id)?;
            if s.ended && !(dir == Dir::Response && s.in_local_reply) {
                return Ok(Action::NotCalled);
            }
            let side = s.side(dir);
            if !side.headers_received || side.end_of_stream_in {
                bail!("stream {id}: {dir:?} trailers need headers and no end_of_stream yet");
            }
            if side.stalled {
                bail!("stream {id}: {dir:?} stalled (headers paused without allow_on_headers_stop_iteration)");
            }
            side.end_of_stream_in = true;
            side.trailers = Some(trailers);
            side.trailers_accessible = true;
        }
        let n = len32_n(
            self.stream_mut(id)?
                .side(dir)
                .trailers
                .as_ref()
                .map_or(0, HeaderMap::len),
        );
        let (name, f) = match dir {
            Dir::Request => (
                "proxy_on_request_trailers",
                self.exports.on_request_trailers.clone(),
            ),
            Dir::Response => (
                "proxy_on_response_trailers",
                self.exports.on_response_trailers.clone(),
            ),
        };
        let raw = match f {
            Some(f) => self.invoke(name, id, |st| f.call(st, (id, n)))?,
            None => 0,
        };
        let action = self.action_of(name, raw)?;
        {
            let s = self.stream_mut(id)?;
            let skip = s.pending_local_reply.is_some() || (s.ended && !s.in_local_reply);
            let side = s.side(dir);
            if !skip {
                match action {
                    Action::Continue => {
                        side.trailers_accessible = false;
                        side.trailers_held = true;
                        release(side);
                    }
                    _ => side.trailers_held = true,
                }
            }
        }
        self.run_after_call_actions()?;
        self.pump()?;
        Ok(action)
    }

    /// Envoy's "after VM call actions": local replies, resumes and resets the plugin asked for
    /// during the callback that just returned.
    pub(crate) fn run_after_call_actions(&mut self) -> Result<()> {
        let ids: Vec<u32> = self
            .store
            .data()
            .streams
            .iter()
            .filter(|(_, s)| {
                s.pending_local_reply.is_some()
                    || s.continue_request
                    || s.continue_response
                    || s.reset_requested
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let (local, cont_req, cont_resp, reset, finished) = {
                let s = self.stream_mut(id)?;
                (
                    s.pending_local_reply.take(),
                    std::mem::take(&mut s.continue_request),
                    std::mem::take(&mut s.continue_response),
                    std::mem::take(&mut s.reset_requested),
                    s.finished || s.access_log_phase,
                )
            };
            if finished {
                if local.is_some() {
                    self.store
                        .data_mut()
                        .warn(id, "local reply after the stream completed: ignored".into());
                }
                continue;
            }
            if reset {
                let s = self.stream_mut(id)?;
                s.reset = true;
                s.ended = true;
                continue;
            }
            if let Some(reply) = local {
                self.local_reply(id, reply)?;
                continue;
            }
            let s = self.stream_mut(id)?;
            if cont_req && !s.ended {
                release(&mut s.req);
            }
            if cont_resp && (!s.ended || s.in_local_reply) {
                release(&mut s.resp);
            }
        }
        Ok(())
    }

    fn local_reply(&mut self, id: u32, reply: LocalReply) -> Result<()> {
        let s = self.stream_mut(id)?;
        if s.resp.out_headers.is_some() {
            // The client already has response headers: Envoy can only reset the stream.
            s.reset = true;
            s.ended = true;
            s.in_local_reply = false;
            self.store.data_mut().warn(
                id,
                format!(
                    "local reply {} after the response headers went to the client: stream reset",
                    reply.status
                ),
            );
            return Ok(());
        }
        if s.in_local_reply || s.resp.headers_received {
            // An upstream response (or our own local reply) is in the filter chain but not yet
            // sent: Envoy replaces it directly, without running the filters again.
            if s.in_local_reply {
                self.store.data_mut().warn(
                    id,
                    "second local reply while the first passes the response callbacks; Envoy \
                     sends it directly (envoy#28826 territory)"
                        .into(),
                );
            }
            let s = self.stream_mut(id)?;
            s.ended = true;
            s.in_local_reply = false;
            if !s.req.out_complete && s.req.out_headers.is_some() {
                s.upstream_reset = true;
            }
            s.resp.headers_held = false;
            s.resp.body = None;
            s.resp.buffering = false;
            s.resp.out_headers = Some(reply.headers.clone());
            if !reply.body.is_empty() {
                s.resp.out_body = reply.body.clone();
                s.resp.out_chunks = vec![reply.body.clone()];
            }
            s.resp.out_complete = true;
            s.local_reply = Some(reply);
            return Ok(());
        }
        // Normal case: the reply goes through this plugin's response callbacks.
        s.ended = true;
        s.in_local_reply = true;
        if s.req.out_headers.is_some() && !s.req.out_complete {
            s.upstream_reset = true;
        }
        s.local_reply = Some(reply.clone());
        let body_empty = reply.body.is_empty();
        let action = self.local_reply_headers(id, reply.headers.clone(), body_empty)?;
        let still_ours = self.stream_mut(id)?.in_local_reply;
        if still_ours && !body_empty && action != Action::NotCalled {
            self.send_body(id, Dir::Response, &reply.body, true)?;
        }
        let s = self.stream_mut(id)?;
        s.in_local_reply = false;
        Ok(())
    }

    fn local_reply_headers(&mut self, id: u32, headers: HeaderMap, eos: bool) -> Result<Action> {
        {
            let s = self.stream_mut(id)?;
            s.resp.headers = headers;
            s.resp.headers_received = true;
            s.resp.headers_accessible = true;
            s.resp.end_of_stream_in = eos;
        }
        let n = len32_n(self.stream_mut(id)?.resp.headers.len());
        let raw = match self.exports.on_response_headers.clone() {
            Some(f) => self.invoke("proxy_on_response_headers", id, |st| {
                f.call(st, (id, n, u32::from(eos)))
            })?,
            None => 0,
        };
        let action = self.action_of("proxy_on_response_headers", raw)?;
        let allow_stop = self.store.data().config.allow_on_headers_stop_iteration;
        self.after_headers(id, Dir::Response, action, allow_stop)?;
        self.run_after_call_actions()?;
        Ok(action)
    }

    pub(crate) fn finish_stream(&mut self, id: u32) -> Result<()> {
        if self.stream_mut(id)?.finished {
            return Ok(());
        }
        self.stream_mut(id)?.access_log_phase = true;
        let r = match self.exports.on_log.clone() {
            Some(f) => self.invoke("proxy_on_log", id, |st| f.call(st, id)),
            None => Ok(()),
        };
        {
            let s = self.stream_mut(id)?;
            s.access_log_phase = false;
            s.finished = true;
        }
        r?;
        self.run_after_call_actions()?;
        if let Some(f) = self.exports.on_done.clone() {
            let done = self.invoke("proxy_on_done", id, |st| f.call(st, id))?;
            if done == 0 {
                self.store.data_mut().warn(
                    id,
                    "proxy_on_done returned false for an HTTP context; deleting it anyway".into(),
                );
            }
        }
        self.run_after_call_actions()?;
        if let Some(f) = self.exports.on_delete.clone() {
            self.invoke("proxy_on_delete", id, |st| f.call(st, id))?;
        }
        self.stream_mut(id)?.deleted = true;
        self.pump()
    }
}

/// One HTTP stream (an HTTP context of the plugin), driven like Envoy drives a filter.
pub struct Request<'a> {
    pub(crate) vm: &'a mut Vm,
    pub(crate) id: u32,
}

impl Request<'_> {
    /// The plugin's context id of this stream.
    pub fn id(&self) -> u32 {
        self.id
    }

    pub fn vm(&mut self) -> &mut Vm {
        self.vm
    }

    fn s(&self) -> Option<&HttpStream> {
        self.vm.store.data().streams.get(&self.id)
    }

    /// Client → filter: request headers (keys are lower-cased like Envoy's codecs do).
    pub fn send_request_headers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        headers: &[(K, V)],
        end_of_stream: bool,
    ) -> Result<Action> {
        self.vm.send_headers(
            self.id,
            Dir::Request,
            HeaderMap::from_pairs(headers),
            end_of_stream,
        )
    }

    /// Client → filter: one request body chunk.
    pub fn send_request_body(&mut self, chunk: &[u8], end_of_stream: bool) -> Result<Action> {
        self.vm
            .send_body(self.id, Dir::Request, chunk, end_of_stream)
    }

    /// Sends a whole body split into chunks of `chunk_size` bytes (the last one with
    /// end_of_stream; an empty body is one empty end_of_stream chunk). Returns the last action.
    pub fn send_request_body_chunked(&mut self, body: &[u8], chunk_size: usize) -> Result<Action> {
        send_chunked(body, chunk_size, |c, eos| self.send_request_body(c, eos))
    }

    pub fn send_request_trailers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        trailers: &[(K, V)],
    ) -> Result<Action> {
        self.vm
            .send_trailers(self.id, Dir::Request, HeaderMap::from_pairs(trailers))
    }

    /// Upstream → filter: response headers (include `:status`).
    pub fn send_response_headers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        headers: &[(K, V)],
        end_of_stream: bool,
    ) -> Result<Action> {
        self.vm.send_headers(
            self.id,
            Dir::Response,
            HeaderMap::from_pairs(headers),
            end_of_stream,
        )
    }

    /// Upstream → filter: one response body chunk.
    pub fn send_response_body(&mut self, chunk: &[u8], end_of_stream: bool) -> Result<Action> {
        self.vm
            .send_body(self.id, Dir::Response, chunk, end_of_stream)
    }

    pub fn send_response_body_chunked(&mut self, body: &[u8], chunk_size: usize) -> Result<Action> {
        send_chunked(body, chunk_size, |c, eos| self.send_response_body(c, eos))
    }

    pub fn send_response_trailers<K: AsRef<str>, V: AsRef<[u8]>>(
        &mut self,
        trailers: &[(K, V)],
    ) -> Result<Action> {
        self.vm
            .send_trailers(self.id, Dir::Response, HeaderMap::from_pairs(trailers))
    }

    /// Ends the stream like Envoy: `proxy_on_log` (access-log phase), `proxy_on_done`,
    /// `proxy_on_delete`. Readers keep working afterwards.
    pub fn finish(&mut self) -> Result<()> {
        self.vm.finish_stream(self.id)
    }

    /// Finishes (if needed) and drops the stream's recorded state (for long benchmark loops).
    pub fn close(self) -> Result<()> {
        self.vm.finish_stream(self.id)?;
        self.vm.store.data_mut().streams.remove(&self.id);
        Ok(())
    }

    /// Adds a property visible to this stream only (overrides VM-wide ones).
    pub fn set_property(&mut self, path: &[&str], value: &[u8]) -> Result<()> {
        let id = self.id;
        self.vm
            .stream_mut(id)?
            .properties
            .insert(crate::abi::property_path(path), value.to_vec());
        Ok(())
    }

    /// Request headers as they went upstream (None while held by the plugin or never sent).
    pub fn upstream_request_headers(&self) -> Option<&HeaderMap> {
        self.s().and_then(|s| s.req.out_headers.as_ref())
    }

    /// Request body bytes that went upstream so far.
    pub fn upstream_request_body(&self) -> &[u8] {
        self.s().map_or(&[], |s| s.req.out_body.as_slice())
    }

    pub fn upstream_request_trailers(&self) -> Option<&HeaderMap> {
        self.s().and_then(|s| s.req.out_trailers.as_ref())
    }

    /// The whole request (headers, body, end of stream) reached upstream.
    pub fn upstream_request_complete(&self) -> bool {
        self.s().is_some_and(|s| s.req.out_complete)
    }

    /// Envoy reset the upstream request (a local reply came after the request started going
    /// upstream).
    pub fn upstream_reset(&self) -> bool {
        self.s().is_some_and(|s| s.upstream_reset)
    }

    /// The local reply the plugin sent, if any.
    pub fn local_reply(&self) -> Option<&LocalReply> {
        self.s().and_then(|s| s.local_reply.as_ref())
    }

    /// Response headers as the client receives them (after the plugin's changes; for a local
    /// reply, after it passed the plugin's response callbacks).
    pub fn response_headers(&self) -> Option<&HeaderMap> {
        self.s().and_then(|s| s.resp.out_headers.as_ref())
    }

    /// Response body bytes the client received so far.
    pub fn response_body(&self) -> &[u8] {
        self.s().map_or(&[], |s| s.resp.out_body.as_slice())
    }

    /// The response body as the chunks the client received them in.
    pub fn response_chunks(&self) -> &[Vec<u8>] {
        self.s().map_or(&[], |s| s.resp.out_chunks.as_slice())
    }

    pub fn response_trailers(&self) -> Option<&HeaderMap> {
        self.s().and_then(|s| s.resp.out_trailers.as_ref())
    }

    /// The client received the whole response.
    pub fn response_complete(&self) -> bool {
        self.s().is_some_and(|s| s.resp.out_complete)
    }

    /// Status the client sees (`:status` of the response headers it got).
    pub fn response_status(&self) -> Option<u32> {
        self.response_headers()
            .and_then(|h| h.get(":status"))
            .and_then(|s| s.parse().ok())
    }

    /// The stream was reset (`proxy_close_stream`, or a local reply too late to send).
    pub fn was_reset(&self) -> bool {
        self.s().is_some_and(|s| s.reset)
    }

    pub fn foreign_calls(&self) -> &[ForeignCall] {
        self.s().map_or(&[], |s| s.foreign_calls.as_slice())
    }

    /// Times Envoy would have cleared the route cache while the request headers were still held
    /// (so the route is chosen again from the changed headers): every request-header change and
    /// every `clear_route_cache` call before the headers went upstream.
    pub fn route_cache_clears(&self) -> usize {
        self.s().map_or(0, |s| s.route_cache_clears)
    }

    /// How many times the plugin called the `clear_route_cache` foreign function.
    pub fn clear_route_cache_calls(&self) -> usize {
        self.foreign_calls()
            .iter()
            .filter(|c| c.name == "clear_route_cache" && c.status == Status::Ok.code())
            .count()
    }

    /// `proxy_http_call`s this stream dispatched (answered or not).
    pub fn http_calls(&self) -> &[HttpCall] {
        self.s().map_or(&[], |s| s.http_calls.as_slice())
    }

    /// Log lines written while this stream's context was running.
    pub fn logs(&self) -> &[LogEntry] {
        self.s().map_or(&[], |s| s.logs.as_slice())
    }

    /// Things the plugin did that Envoy would silently ignore (writing a header map that is not
    /// available any more, …) or that are suspicious (CR/LF in a header value).
    pub fn warnings(&self) -> &[String] {
        self.s().map_or(&[], |s| s.warnings.as_slice())
    }

    /// The live request header map (what the plugin sees now, even if not yet sent).
    pub fn request_headers_now(&self) -> Option<&HeaderMap> {
        self.s().map(|s| &s.req.headers)
    }
}

fn send_chunked(
    body: &[u8],
    chunk_size: usize,
    mut send: impl FnMut(&[u8], bool) -> Result<Action>,
) -> Result<Action> {
    let size = chunk_size.max(1);
    if body.is_empty() {
        return send(&[], true);
    }
    let mut last = Action::Continue;
    let mut chunks = body.chunks(size).peekable();
    while let Some(c) = chunks.next() {
        last = send(c, chunks.peek().is_none())?;
        if last == Action::NotCalled {
            break;
        }
    }
    Ok(last)
}
