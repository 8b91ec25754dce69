//! The registry of provider kinds: one line each, naming the kind as the document
//! spells it (`kind`), its variant of [`ProviderKind`] and its settings type. Everything
//! else about a kind is in its folder, `translate/<kind>/` (its raw fields and builder in
//! `settings.rs`, its [`Translator`] impl).

use serde::Deserialize;

use super::error::ConfigError;
use super::kind::{KindInput, KindSettings};
use super::provider_common::Defaults;
use super::provider_fields::{own_fields, Field};
use crate::translate::translator::Translator;

/// Declares [`KindTag`] (the names), [`ProviderKind`] (the settings) and the two
/// dispatches over them, from one list.
macro_rules! registry {
    ($($(#[$doc:meta])* $name:literal => $variant:ident($settings:ty),)*) => {
        /// A provider kind as the document names it.
        #[derive(Debug, Clone, Copy, Deserialize)]
        pub enum KindTag {
            $(#[serde(rename = $name)] $variant,)*
        }

        /// A configured provider's kind and its settings, which are its translator.
        #[derive(Debug)]
        pub enum ProviderKind {
            $($(#[$doc])* $variant($settings),)*
        }

        impl ProviderKind {
            /// The kind's settings from its own fields of `providers[i]`.
            pub(super) fn build(
                tag: KindTag,
                fields: &[Field],
                input: &KindInput<'_>,
            ) -> Result<(ProviderKind, Defaults), ConfigError> {
                Ok(match tag {
                    $(KindTag::$variant => {
                        let (s, d) = build::<$settings>(fields, input)?;
                        (ProviderKind::$variant(s), d)
                    })*
                })
            }

            /// The kind's translator: its settings.
            pub fn translator(&self) -> &dyn Translator {
                match self {
                    $(ProviderKind::$variant(s) => s,)*
                }
            }
        }
    };
}

// Each line: the kind as the document names it => its variant(its settings, in its folder).
registry! {
    "openai" => OpenAi(crate::translate::openai::settings::OpenAi),
    "anthropic" => Anthropic(crate::translate::anthropic::settings::AnthropicSettings),
    /// Google AI Studio (Gemini API).
    "gemini" => Gemini(crate::translate::gemini::settings::Gemini),
    /// Gemini on Vertex AI.
    "vertex" => Vertex(crate::translate::vertex::settings::VertexSettings),
    /// Anthropic models on Vertex AI.
    "vertex_anthropic" => VertexAnthropic(crate::translate::vertex::settings::VertexAnthropicSettings),
    "azure" => Azure(crate::translate::azure::settings::AzureSettings),
    "bedrock" => Bedrock(crate::translate::bedrock::settings::BedrockSettings),
}

fn build<S: KindSettings>(
    fields: &[Field],
    input: &KindInput<'_>,
) -> Result<(S, Defaults), ConfigError> {
    S::build(own_fields(input.index, fields)?, input)
}
