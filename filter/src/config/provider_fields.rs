//! A provider object's fields besides `kind`, kept as written until the kind is known:
//! the common ones are read as [`RawCommon`], the rest as the kind's own raw fields.
//! Either read refuses what it does not know, so every unknown field is an error.

use serde::de::value::MapDeserializer;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::error::{without_position, ConfigError};
use super::provider_common::{RawCommon, COMMON_FIELDS};

/// One `"key": value` of a provider object, the value unparsed.
pub type Field = (String, Box<RawValue>);

/// The common fields of `providers[i]`.
pub(super) fn common_fields(i: usize, fields: &[Field]) -> Result<RawCommon, ConfigError> {
    read(i, fields, true)
}

/// The kind's own fields of `providers[i]`: all but the common ones.
pub(super) fn own_fields<T: DeserializeOwned>(
    i: usize,
    fields: &[Field],
) -> Result<T, ConfigError> {
    read(i, fields, false)
}

/// Errors name the provider, as serde names the object a field is unknown or missing in.
fn read<T: DeserializeOwned>(i: usize, fields: &[Field], common: bool) -> Result<T, ConfigError> {
    let selected = fields
        .iter()
        .filter(|(k, _)| COMMON_FIELDS.contains(&k.as_str()) == common)
        .map(|(k, v)| (k.as_str(), &**v));
    T::deserialize(MapDeserializer::<_, serde_json::Error>::new(selected)).map_err(|e| {
        ConfigError {
            field: format!("providers[{i}]"),
            reason: without_position(e.to_string()),
        }
    })
}
