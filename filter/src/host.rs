//! Everything the core needs from Envoy, as a trait. The proxy-wasm glue implements it
//! over host calls; `FakeHost` implements it in memory for native tests.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasResult {
    Ok,
    /// Someone else wrote the key since we read it: read again and retry.
    Mismatch,
    Failed,
}

pub trait Host {
    /// All request headers in one host call (names lowercase, as Envoy keeps them).
    fn request_headers(&self) -> crate::headers::Headers;
    fn request_header(&self, name: &str) -> Option<String>;
    /// Make `value` the header's one value (the host decides whether that is an add or a
    /// replace: it knows what it read).
    fn set_request_header(&mut self, name: &str, value: &str);
    fn remove_request_header(&mut self, name: &str);
    /// All response headers in one host call.
    fn response_headers(&self) -> crate::headers::Headers;
    fn set_response_header(&mut self, name: &str, value: &str);
    fn remove_response_header(&mut self, name: &str);

    /// The first `size` bytes of the (buffered) request body.
    fn request_body(&self, size: usize) -> Vec<u8>;
    /// Replace the first `size` bytes of the request body with `body`.
    fn set_request_body(&mut self, size: usize, body: &[u8]);
    fn response_body(&self, size: usize) -> Vec<u8>;
    fn set_response_body(&mut self, size: usize, body: &[u8]);

    fn send_local_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]);

    /// Value and CAS token; the token is 0 when the key does not exist.
    fn shared_get(&self, key: &str) -> (Option<Vec<u8>>, u32);
    /// `cas` 0 writes unconditionally (Envoy semantics).
    fn shared_set(&mut self, key: &str, value: &[u8], cas: u32) -> CasResult;

    fn counter_add(&mut self, name: &str, delta: u64);
    fn histogram_record(&mut self, name: &str, value: u64);
    /// Same, for a histogram that can keep the host's id between requests.
    fn histogram(&mut self, h: &crate::usage::metrics::Histogram, value: u64) {
        self.histogram_record(&h.name, value);
    }
    /// An Envoy attribute, e.g. `["connection", "uri_san_peer_certificate"]`.
    fn property(&self, path: &[&str]) -> Option<Vec<u8>>;
    /// Per-request value for access logs (Envoy filter state `wasm.<name>`).
    fn set_log_field(&mut self, name: &str, value: &str);
    fn now_ms(&self) -> u64;
    fn random_u64(&mut self) -> u64;

    /// An HTTP call to an Envoy cluster from this request; its answer comes to
    /// `Exchange::on_call_answer`. None: not started (the caller treats it as failed).
    fn dispatch_call(&mut self, _call: &crate::background::Call<'_>) -> Option<u32> {
        None
    }
    /// Let a request paused for a call go on.
    fn resume_request(&mut self) {}
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// In-memory host for native tests: records everything, time and randomness scripted.
#[derive(Debug, Default)]
pub struct FakeHost {
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub response_body: Vec<u8>,
    pub local_response: Option<LocalReply>,
    /// Single-header writes and removals (each is one host call in Envoy).
    pub header_writes: u32,
    pub shared: std::collections::HashMap<String, (Vec<u8>, u32)>,
    pub cas_counter: u32,
    pub counters: std::collections::BTreeMap<String, u64>,
    pub histograms: std::collections::BTreeMap<String, Vec<u64>>,
    pub properties: std::collections::HashMap<String, Vec<u8>>,
    pub log_fields: std::collections::BTreeMap<String, String>,
    pub now_ms: u64,
    pub randoms: std::collections::VecDeque<u64>,
    /// Calls dispatched: (cluster, path, body); `calls_down` makes them fail to start.
    pub calls: Vec<(String, String, Vec<u8>)>,
    pub calls_down: bool,
    pub resumed: u32,
}

fn get(map: &[(String, String)], name: &str) -> Option<String> {
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Lowercase names, as Envoy hands headers over.
fn as_envoy_sends(pairs: &[(String, String)]) -> crate::headers::Headers {
    let lower: Vec<(String, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.as_str()))
        .collect();
    crate::headers::Headers::from_pairs(&lower)
}

fn set(map: &mut Vec<(String, String)>, name: &str, value: &str) {
    map.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    map.push((name.to_string(), value.to_string()));
}

fn replace_prefix(buf: &mut Vec<u8>, size: usize, with: &[u8]) {
    let size = size.min(buf.len());
    buf.splice(..size, with.iter().copied());
}

impl FakeHost {
    pub fn with_request(headers: &[(&str, &str)]) -> FakeHost {
        FakeHost {
            request_headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            now_ms: 1_700_000_000_000,
            ..FakeHost::default()
        }
    }

    pub fn header(&self, name: &str) -> Option<String> {
        get(&self.request_headers, name)
    }
}

impl Host for FakeHost {
    fn request_headers(&self) -> crate::headers::Headers {
        as_envoy_sends(&self.request_headers)
    }
    fn request_header(&self, name: &str) -> Option<String> {
        get(&self.request_headers, name)
    }
    fn set_request_header(&mut self, name: &str, value: &str) {
        self.header_writes += 1;
        set(&mut self.request_headers, name, value)
    }
    fn remove_request_header(&mut self, name: &str) {
        self.header_writes += 1;
        self.request_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
    fn response_headers(&self) -> crate::headers::Headers {
        as_envoy_sends(&self.response_headers)
    }
    fn set_response_header(&mut self, name: &str, value: &str) {
        set(&mut self.response_headers, name, value)
    }
    fn remove_response_header(&mut self, name: &str) {
        self.response_headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
    fn request_body(&self, size: usize) -> Vec<u8> {
        self.request_body
            .get(..size.min(self.request_body.len()))
            .unwrap_or(&[])
            .to_vec()
    }
    fn set_request_body(&mut self, size: usize, body: &[u8]) {
        replace_prefix(&mut self.request_body, size, body)
    }
    fn response_body(&self, size: usize) -> Vec<u8> {
        self.response_body
            .get(..size.min(self.response_body.len()))
            .unwrap_or(&[])
            .to_vec()
    }
    fn set_response_body(&mut self, size: usize, body: &[u8]) {
        replace_prefix(&mut self.response_body, size, body)
    }
    fn send_local_response(&mut self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        self.local_response = Some(LocalReply {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_vec(),
        });
    }
    fn shared_get(&self, key: &str) -> (Option<Vec<u8>>, u32) {
        match self.shared.get(key) {
            Some((v, cas)) => (Some(v.clone()), *cas),
            None => (None, 0),
        }
    }
    fn shared_set(&mut self, key: &str, value: &[u8], cas: u32) -> CasResult {
        if let Some((_, current)) = self.shared.get(key) {
            if cas != 0 && cas != *current {
                return CasResult::Mismatch;
            }
        }
        self.cas_counter += 1;
        self.shared
            .insert(key.to_string(), (value.to_vec(), self.cas_counter));
        CasResult::Ok
    }
    fn counter_add(&mut self, name: &str, delta: u64) {
        *self.counters.entry(name.to_string()).or_default() += delta;
    }
    fn histogram_record(&mut self, name: &str, value: u64) {
        self.histograms
            .entry(name.to_string())
            .or_default()
            .push(value);
    }
    fn property(&self, path: &[&str]) -> Option<Vec<u8>> {
        self.properties.get(&path.join(".")).cloned()
    }
    fn set_log_field(&mut self, name: &str, value: &str) {
        self.log_fields.insert(name.to_string(), value.to_string());
    }
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
    fn random_u64(&mut self) -> u64 {
        self.randoms.pop_front().unwrap_or(0)
    }
    fn dispatch_call(&mut self, call: &crate::background::Call<'_>) -> Option<u32> {
        if self.calls_down {
            return None;
        }
        let path = call
            .headers
            .iter()
            .find(|(k, _)| *k == ":path")
            .map_or("", |(_, v)| *v);
        self.calls.push((
            call.cluster.to_string(),
            path.to_string(),
            call.body.to_vec(),
        ));
        u32::try_from(self.calls.len()).ok()
    }
    fn resume_request(&mut self) {
        self.resumed += 1;
    }
}
