//! Web origins a publishable key may be used from: `scheme://host[:port]` as a browser
//! sends it in `Origin`, compared exactly after lower-casing scheme and host.

use serde::{Deserialize, Deserializer, Serialize};

/// Most origins one publishable key may allow.
pub const MAX_ORIGINS: usize = 20;

/// One serialized web origin: `https://shop.example` or `http://127.0.0.1:8080`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct WebOrigin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a web origin: write scheme://host[:port] with http or https, no path")]
pub struct InvalidOrigin(pub String);

impl WebOrigin {
    pub fn parse(text: &str) -> Result<Self, InvalidOrigin> {
        let invalid = || InvalidOrigin(text.chars().take(100).collect());
        let (scheme, rest) = text.split_once("://").ok_or_else(invalid)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(invalid());
        }
        let (host, port) = match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        let host_ok = !host.is_empty() && host.len() <= 253 && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        let port_ok = port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok());
        if !host_ok || !port_ok {
            return Err(invalid());
        }
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        Ok(WebOrigin(format!("{scheme}://{}{port}", host.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for WebOrigin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        WebOrigin::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A publishable key's origins: 1 to `MAX_ORIGINS`, each once.
pub fn allowed_origins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<WebOrigin>, D::Error> {
    let mut origins = Vec::<WebOrigin>::deserialize(d)?;
    if origins.is_empty() || origins.len() > MAX_ORIGINS {
        return Err(serde::de::Error::custom(format!("allowed_origins holds 1 to {MAX_ORIGINS} origins")));
    }
    let count = origins.len();
    origins.sort_by(|a, b| a.0.cmp(&b.0));
    origins.dedup();
    if origins.len() != count {
        return Err(serde::de::Error::custom("allowed_origins names an origin twice"));
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(WebOrigin::parse("HTTPS://Shop.Example").unwrap().as_str(), "https://shop.example");
        assert_eq!(WebOrigin::parse("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080");
        for bad in ["shop.example", "ftp://x", "https://", "https://x/", "https://x/path", "https://x:99999", "https://x:", "*", "null", "https://a b"] {
            assert!(WebOrigin::parse(bad).is_err(), "{bad}");
        }
    }
}
