//! A provider object as written: its `kind`, read while the document is (so an unknown
//! kind is named at `providers[i].kind`), and its other fields, read once the kind is
//! known (`provider_fields.rs`).

use std::fmt;

use serde::de::{Error, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::kinds::KindTag;
use super::provider_fields::Field;

#[derive(Debug)]
pub struct RawProvider {
    pub kind: KindTag,
    pub fields: Vec<Field>,
}

impl<'de> Deserialize<'de> for RawProvider {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ProviderVisitor)
    }
}

struct ProviderVisitor;

impl<'de> Visitor<'de> for ProviderVisitor {
    type Value = RawProvider;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a provider object with a kind")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawProvider, A::Error> {
        let mut kind = None;
        let mut fields: Vec<Field> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "kind" {
                if kind.is_some() {
                    return Err(A::Error::duplicate_field("kind"));
                }
                kind = Some(map.next_value::<KindTag>()?);
            } else {
                let value = map.next_value::<Box<RawValue>>()?;
                fields.push((key, value));
            }
        }
        let kind = kind.ok_or_else(|| A::Error::missing_field("kind"))?;
        Ok(RawProvider { kind, fields })
    }
}
