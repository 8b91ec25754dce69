//! Whose stored response is whose. Every key reaches the provider with the same
//! credential, so the provider cannot tell key A's stored responses from key B's: the
//! gateway remembers which key created each response id it relayed, and lets only that
//! key (or an admin key) read, delete, cancel or continue it (`previous_response_id`).
//! Without access control there is one tenant and nothing is recorded.
//!
//! Memory is bounded: a fixed table of slots in shared data, the slot chosen by the id's
//! hash. A newer response that lands in an older one's slot replaces its record, and the
//! older one then answers 404 through the gateway (it fails closed, never open).

use crate::config::Config;
use crate::error::GatewayError;
use crate::host::Host;
use crate::routing::strategy::fnv1a;

/// Slots in the table: at most this many records (about 100 bytes each) in shared data.
pub const SLOTS: u64 = 65_536;

fn slot_key(id: &str) -> String {
    let slot = fnv1a(id.as_bytes()) % SLOTS;
    crate::strs::concat(&["llm:resp:", &slot.to_string()])
}

/// The caller, as the exchange knows it (its fields, borrowed alongside the answer).
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    pub cfg: &'a Config,
    pub index: Option<usize>,
    pub runtime_key: Option<&'a str>,
}

impl<'a> Caller<'a> {
    pub fn of(cfg: &'a Config, index: Option<usize>, runtime_key: Option<&'a str>) -> Self {
        Caller {
            cfg,
            index,
            runtime_key,
        }
    }

    /// Who the caller is, for the table: a configured key's name, a fleet runtime key's
    /// hash; None on an open gateway (nothing to separate).
    fn tenant(&self) -> Option<String> {
        self.cfg.access.as_ref()?;
        if let Some(name) = super::access::key_name(self.cfg, self.index) {
            return Some(crate::strs::concat(&["key:", name]));
        }
        Some(match self.runtime_key {
            Some(sha) => crate::strs::concat(&["sha:", sha]),
            None => "anonymous".to_string(),
        })
    }

    fn is_admin(&self) -> bool {
        let access = self.cfg.access.as_ref();
        access
            .and_then(|a| self.index.and_then(|i| a.key(i)))
            .is_some_and(|k| k.admin)
    }
}

fn record_value(id: &str, tenant: &str) -> Vec<u8> {
    crate::strs::concat(&[id, "\n", tenant]).into_bytes()
}

/// The caller created the response `id` (just relayed to it).
pub fn record(caller: Caller<'_>, host: &mut dyn Host, id: &str) {
    let Some(tenant) = caller.tenant() else {
        return;
    };
    if id.is_empty() || !plain_id(id) {
        return;
    }
    // Unconditional: the newest response owns the slot.
    let _ = host.shared_set(&slot_key(id), &record_value(id, &tenant), 0);
}

/// The caller may use the stored response `id`; 404 (as for an id that does not
/// exist, so that other keys' ids are not revealed) otherwise.
pub fn check(
    caller: Caller<'_>,
    host: &dyn Host,
    id: &str,
    param: Option<&str>,
) -> Result<(), GatewayError> {
    let Some(tenant) = caller.tenant() else {
        return Ok(());
    };
    if caller.is_admin() {
        return Ok(());
    }
    let owned = host
        .shared_get(&slot_key(id))
        .0
        .is_some_and(|v| v == record_value(id, &tenant));
    if owned {
        return Ok(());
    }
    let mut e = GatewayError::not_found(id);
    e.code = None;
    e.message = format!("No response found with id '{}'.", crate::error::clip(id));
    e.param = param.map(str::to_string);
    Err(e)
}

/// Ids are plain tokens (`resp_…`): nothing that could split the record.
fn plain_id(id: &str) -> bool {
    id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The response id a `GET`/`DELETE /v1/responses/{id}[/…]` names (`rest`: the path
/// after `/v1/responses/`, query removed).
pub fn id_in_path(rest: &str) -> &str {
    rest.split('/').next().unwrap_or("")
}
