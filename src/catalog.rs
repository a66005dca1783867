//! The sellable catalog: products (SKUs) grouped into styles with size and color variants.

use crate::shared::ids::{Sku, StyleCode};
use crate::shared::text;
use crate::shared::money::Money;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

const MAX_ATTRIBUTES: usize = 50;
const MAX_IMAGES: usize = 20;
const MAX_URL: usize = 2048;

/// What a back-office system sends to create or replace a product.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductDraft {
    pub style: StyleCode,
    #[serde(deserialize_with = "text::line")]
    pub name: String,
    #[serde(deserialize_with = "text::line")]
    pub color: String,
    #[serde(deserialize_with = "text::line")]
    pub size: String,
    pub price: Money,
    /// Free-form storefront attributes (material, fit, gender, ...): string to string.
    #[serde(default, deserialize_with = "attributes")]
    pub attributes: BTreeMap<String, String>,
    /// Image URLs, first is the main image.
    #[serde(default, deserialize_with = "images")]
    pub images: Vec<String>,
}

/// A product as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub style: StyleCode,
    pub name: String,
    pub color: String,
    pub size: String,
    pub price: Money,
    pub attributes: BTreeMap<String, String>,
    pub images: Vec<String>,
    pub updated_at: String,
}

impl Product {
    pub fn from_draft(sku: Sku, d: ProductDraft, updated_at: String) -> Self {
        Product {
            sku,
            style: d.style,
            name: d.name,
            color: d.color,
            size: d.size,
            price: d.price,
            attributes: d.attributes,
            images: d.images,
            updated_at,
        }
    }
}

fn attributes<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<String, String>::deserialize(d)?;
    if map.len() > MAX_ATTRIBUTES {
        return Err(serde::de::Error::custom(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (k, v) in &map {
        text::check_line(k)
            .and_then(|()| text::check_line(v))
            .map_err(|e| serde::de::Error::custom(format!("attribute {k:?}: {e}")))?;
    }
    Ok(map)
}

fn images<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let urls = Vec::<String>::deserialize(d)?;
    if urls.len() > MAX_IMAGES {
        return Err(serde::de::Error::custom(format!("at most {MAX_IMAGES} images")));
    }
    for url in &urls {
        let ok = url.chars().count() <= MAX_URL
            && (url.starts_with("https://") || url.starts_with("http://"))
            && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(serde::de::Error::custom("images must be http(s) URLs without spaces"));
        }
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"style":"RUNNER","name":"Runner","color":"black","size":"42","price":{"amount":"89.95","currency":"EUR"},"images":["https://img.example/r.jpg"]}"#;

    #[test]
    fn parses_a_variant() {
        let d: ProductDraft = serde_json::from_str(GOOD).unwrap();
        assert_eq!(d.size, "42");
        assert!(d.attributes.is_empty());
    }

    #[test]
    fn image_urls_are_measured_in_characters() {
        let url = format!("https://img.example/{}", "ü".repeat(2048 - 20));
        assert_eq!(url.chars().count(), 2048);
        let json = GOOD.replace("https://img.example/r.jpg", &url);
        assert!(serde_json::from_str::<ProductDraft>(&json).is_ok());
    }

    #[test]
    fn refuses_bad_products() {
        let bad = [
            GOOD.replace("\"89.95\"", "\"-1\""),
            GOOD.replace("https://img.example/r.jpg", "javascript:alert(1)"),
            GOOD.replace("\"RUNNER\"", "\"RUN NER\""),
            GOOD.replace("\"size\":\"42\"", "\"size\":42"),
            GOOD.replace("\"color\":\"black\",", ""),
            GOOD.replace("https://img.example/r.jpg", &format!("https://img.example/{}", "a".repeat(2030))),
        ];
        for json in bad {
            assert!(serde_json::from_str::<ProductDraft>(&json).is_err(), "{json}");
        }
    }
}
