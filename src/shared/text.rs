//! Free-text fields as retail systems send them: one printable line, trimmed, or an
//! ISO country code.

use serde::{Deserialize, Deserializer};

pub const MAX_LINE: usize = 200;

pub fn check_line(value: &str) -> Result<(), String> {
    let trimmed = value.trim();
    if trimmed.is_empty() || value.chars().count() > MAX_LINE || value.chars().any(char::is_control) {
        Err(format!("must be 1 to {MAX_LINE} printable characters"))
    } else {
        Ok(())
    }
}

pub fn line<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = String::deserialize(d)?;
    check_line(&value).map_err(serde::de::Error::custom)?;
    Ok(value.trim().to_owned())
}

pub fn optional_line<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|v| check_line(&v).map(|()| v.trim().to_owned()))
        .transpose()
        .map_err(serde::de::Error::custom)
}

pub fn country<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let value = String::deserialize(d)?;
    if value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(value)
    } else {
        Err(serde::de::Error::custom("must be an ISO 3166-1 alpha-2 code such as \"NL\""))
    }
}
