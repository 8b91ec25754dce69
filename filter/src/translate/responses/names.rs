//! Tool names as the provider sees them and as the client declared them. Providers
//! without namespaces get a namespace's functions flattened to `{namespace}__{name}`;
//! `custom` (free-form) tools become functions taking one string `input`. The answer
//! maps both back, so the client sees the calls it declared.

/// Separates a namespace from its function's name in a flattened name.
pub const NAMESPACE_SEPARATOR: &str = "__";

#[derive(Debug, Default, Clone)]
pub struct ToolNames {
    /// (flat name, namespace, name inside it)
    flattened: Vec<(String, String, String)>,
    /// Names of `custom` tools (flattened if namespaced).
    custom: Vec<String>,
}

/// A call the provider made, as the client knows it.
#[derive(Debug, PartialEq, Eq)]
pub enum Called<'a> {
    Function {
        name: &'a str,
        namespace: Option<&'a str>,
    },
    /// A free-form tool: the call's `input` is the `input` argument.
    Custom {
        name: &'a str,
        namespace: Option<&'a str>,
    },
}

impl ToolNames {
    /// No tools renamed.
    pub const EMPTY: ToolNames = ToolNames {
        flattened: Vec::new(),
        custom: Vec::new(),
    };

    /// The name the provider gets for `name` inside `namespace` (if any).
    pub fn declare(&mut self, namespace: Option<&str>, name: &str, custom: bool) -> String {
        let flat = flat(namespace, name);
        if let Some(ns) = namespace {
            self.flattened
                .push((flat.clone(), ns.to_string(), name.to_string()));
        }
        if custom {
            self.custom.push(flat.clone());
        }
        flat
    }

    pub fn is_custom(&self, flat: &str) -> bool {
        self.custom.iter().any(|c| c == flat)
    }

    /// The client's view of a call to `flat`.
    pub fn back<'a>(&'a self, flat: &'a str) -> Called<'a> {
        let (name, namespace) = match self.flattened.iter().find(|(f, _, _)| f == flat) {
            Some((_, ns, name)) => (name.as_str(), Some(ns.as_str())),
            None => (flat, None),
        };
        if self.is_custom(flat) {
            Called::Custom { name, namespace }
        } else {
            Called::Function { name, namespace }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.flattened.is_empty() && self.custom.is_empty()
    }
}

/// `{namespace}__{name}`, or `name` outside a namespace.
pub fn flat(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => crate::strs::concat(&[ns, NAMESPACE_SEPARATOR, name]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaced_and_custom_names_map_back() {
        let mut names = ToolNames::default();
        assert_eq!(names.declare(Some("crm"), "lookup", false), "crm__lookup");
        assert_eq!(names.declare(None, "apply_patch", true), "apply_patch");
        assert_eq!(
            names.back("crm__lookup"),
            Called::Function {
                name: "lookup",
                namespace: Some("crm")
            }
        );
        assert_eq!(
            names.back("apply_patch"),
            Called::Custom {
                name: "apply_patch",
                namespace: None
            }
        );
        assert_eq!(
            names.back("other__x"),
            Called::Function {
                name: "other__x",
                namespace: None
            }
        );
    }
}
