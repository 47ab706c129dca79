//! `--env [FN:]NAME=VALUE`, for `gen invoke` and `gen dev`: a variable a local run gives a
//! function instead of (or besides) what its template says, e.g. a local OpenID provider's
//! issuer for the authorizer. Without `FN:` it applies to every function.

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use stackgen_core::model::{Key, Model};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvOverride {
    /// The function's key in gen.yaml; `None`: every function.
    pub function: Option<String>,
    pub name: String,
    pub value: String,
}

impl std::str::FromStr for EnvOverride {
    type Err = String;

    fn from_str(text: &str) -> Result<EnvOverride, String> {
        let Some((left, value)) = text.split_once('=') else {
            return Err(format!(
                "`{text}` is not NAME=VALUE or FN:NAME=VALUE (e.g. authorizer:AUTH_ISSUER=http://127.0.0.1:4000/)"
            ));
        };
        // A variable's name cannot hold `:`, so the first one ends the function's key.
        let (function, name) = match left.split_once(':') {
            Some((function, name)) => (Some(function.to_owned()), name),
            None => (None, left),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`{name}` is not a variable name (letters, digits and `_`, not starting with a digit)"
            ));
        }
        Ok(EnvOverride {
            function,
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }
}

/// Refuses an override naming a function gen.yaml does not have (a typo would otherwise be
/// silently ignored).
pub fn check(overrides: &[EnvOverride], model: &Model) -> Result<()> {
    for function in overrides.iter().filter_map(|o| o.function.as_deref()) {
        if !model.functions.keys().any(|k| k.as_str() == function) {
            let names = model.functions.keys().map(Key::as_str);
            let mut message = format!("--env {function}:…: gen.yaml has no function `{function}`");
            if let Some(hint) = stackgen_core::diag::did_you_mean_hint(function, names) {
                message.push_str(&format!("\n  = hint: {hint}"));
            }
            bail!(message);
        }
    }
    Ok(())
}

/// Applies the overrides for `function` to `environment`, in the order given (the last wins);
/// returns the names set.
pub fn apply(
    overrides: &[EnvOverride],
    function: &Key,
    environment: &mut BTreeMap<String, String>,
) -> Vec<String> {
    let mut set = Vec::new();
    for o in overrides
        .iter()
        .filter(|o| o.function.as_deref().is_none_or(|f| f == function.as_str()))
    {
        environment.insert(o.name.clone(), o.value.clone());
        if !set.contains(&o.name) {
            set.push(o.name.clone());
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_with_and_without_a_function() {
        let all: EnvOverride = "RUST_LOG=debug".parse().unwrap();
        assert_eq!(
            all,
            EnvOverride {
                function: None,
                name: "RUST_LOG".into(),
                value: "debug".into()
            }
        );
        let one: EnvOverride = "authorizer:AUTH_ISSUER=http://127.0.0.1:4000/?a=b"
            .parse()
            .unwrap();
        assert_eq!(one.function.as_deref(), Some("authorizer"));
        assert_eq!(
            (one.name.as_str(), one.value.as_str()),
            ("AUTH_ISSUER", "http://127.0.0.1:4000/?a=b")
        );
        assert!("NOVALUE".parse::<EnvOverride>().is_err());
        assert!("1BAD=x".parse::<EnvOverride>().is_err());
        assert!("fn:BAD-NAME=x".parse::<EnvOverride>().is_err());
        assert!("=x".parse::<EnvOverride>().is_err());
    }
}
