//! Client-facing model name → candidate targets.

use crate::config::{Config, Target};
use crate::error::GatewayError;

/// Targets for `model`: the configured route, or `provider/model` when allowed.
pub fn resolve(cfg: &Config, model: &str) -> Result<Vec<Target>, GatewayError> {
    if let Some(route) = cfg.models.get(model) {
        return Ok(route.targets.clone());
    }
    if cfg.allow_provider_model {
        if let Some((provider, upstream)) = model.split_once('/') {
            if let Some(index) = cfg.provider_index(provider) {
                if !upstream.is_empty() {
                    return Ok(vec![Target {
                        provider: index,
                        model: upstream.to_string(),
                        weight: 1,
                        context_window: None,
                    }]);
                }
            }
        }
    }
    Err(GatewayError::unknown_model(model))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn cfg(allow: bool) -> Config {
        let doc = format!(
            r#"{{"providers":[{{"name":"oa","kind":"openai","cluster":"c"}}],
                "models":[{{"name":"m","targets":[{{"provider":"oa","model":"gpt-x"}}]}}],
                "allow_provider_model":{allow}}}"#
        );
        parse(doc.as_bytes(), &|_| None).unwrap()
    }

    #[test]
    fn listed_and_addressed() {
        let c = cfg(true);
        assert_eq!(resolve(&c, "m").unwrap()[0].model, "gpt-x");
        assert_eq!(
            resolve(&c, "oa/gpt-4o-mini").unwrap()[0].model,
            "gpt-4o-mini"
        );
        assert_eq!(resolve(&c, "zz/gpt").unwrap_err().status, 404);
        assert_eq!(resolve(&c, "oa/").unwrap_err().status, 404);
        assert_eq!(resolve(&cfg(false), "oa/gpt").unwrap_err().status, 404);
    }
}
