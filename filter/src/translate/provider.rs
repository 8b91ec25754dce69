//! The translator of a configured provider.

use crate::config::Provider;
use crate::translate::translator::Translator;

/// The translator of a configured provider: its kind's settings.
pub fn of(provider: &Provider) -> &dyn Translator {
    provider.kind.translator()
}
