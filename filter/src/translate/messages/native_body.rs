//! What every provider that takes the Messages body itself gets from the client's
//! request: the body (model rewritten, system entries placed) and the client's betas.

use super::super::openai::rewrite_model;
use super::system;
use crate::api::anthropic_server::MessagesRequest;
use crate::error::GatewayError;

/// The client's betas go as sent (Claude Code's among them); without the system
/// message beta, system entries are hoisted for Anthropic to accept them.
pub fn beta_header(req: &MessagesRequest) -> Option<(&'static str, String)> {
    req.client_betas
        .as_ref()
        .or(req.system_message_betas.as_ref())
        .map(|betas| ("anthropic-beta", betas.clone()))
}

/// The body with `model` set to `upstream_model` (`None`: as sent) and, unless the
/// client sent the system message beta, its system entries hoisted.
pub fn body(
    req: &MessagesRequest,
    upstream_model: &str,
    raw: &[u8],
) -> Result<Option<Vec<u8>>, GatewayError> {
    match (system::present(req), &req.system_message_betas) {
        (false, _) | (true, Some(_)) => rewrite_model(raw, &req.model, upstream_model),
        (true, None) => Ok(Some(system::hoisted(raw, upstream_model)?)),
    }
}
