//! Request bodies read the way the OpenAPI document (JSON Schema) reads them, so that
//! the contract and the worker agree on what is accepted: a number with a zero
//! fraction (`1.0`, `1e2`, `-0`) is the integer it denotes; `null` is no value (a
//! member without one is left out); a member named twice in one object is refused.

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Parses a body into `T`. Syntax errors keep serde_json's syntax category; anything
/// the body says that `T` or the rules above refuse is a data error.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let Read(value) = serde_json::from_slice(bytes)?;
    T::deserialize(value)
}

/// A JSON value read under the rules above.
struct Read(Value);

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ReadVisitor).map(Read)
    }
}

struct ReadVisitor;

impl<'de> Visitor<'de> for ReadVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value other than null")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // Whole and within the integer types: `1e2` is 100, `-0` is 0 (-0.0 >= 0.0).
        const TWO_TO_64: f64 = 18_446_744_073_709_551_616.0;
        if v.fract() == 0.0 && (0.0..TWO_TO_64).contains(&v) {
            return Ok(Value::from(v as u64));
        }
        if v.fract() == 0.0 && (i64::MIN as f64..0.0).contains(&v) {
            return Ok(Value::from(v as i64));
        }
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("numbers must be finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Err(E::custom("null is not a value in a request: leave out what has none"))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Read(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format!("member {name:?} is sent twice")));
            }
            let Read(value) = map.next_value()?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shared::quantity::{Delta, PositiveQuantity, Quantity};
    use serde_json::error::Category;

    fn read<T: DeserializeOwned>(json: &str) -> Result<T, Category> {
        from_slice(json.as_bytes()).map_err(|e| e.classify())
    }

    #[test]
    fn whole_numbers_are_integers_however_written() {
        for json in ["3", "3.0", "3.000", "0.3e1", "3E0", "300e-2"] {
            assert_eq!(read::<PositiveQuantity>(json).unwrap().get(), 3, "{json}");
        }
        assert_eq!(read::<Quantity>("-0").unwrap().get(), 0);
        assert_eq!(read::<Quantity>("-0.0").unwrap().get(), 0);
        assert_eq!(read::<Delta>("-2.0").unwrap().get(), -2);
        assert_eq!(read::<u32>("4294967295.0").unwrap(), u32::MAX);
        assert_eq!(read::<f64>("52.5").unwrap(), 52.5);
        assert_eq!(read::<f64>("52.0").unwrap(), 52.0);
    }

    #[test]
    fn fractions_and_out_of_range_numbers_stay_refused() {
        assert_eq!(read::<Quantity>("2.5"), Err(Category::Data));
        assert_eq!(read::<Quantity>("1e7"), Err(Category::Data));
        assert_eq!(read::<u32>("4294967296.0"), Err(Category::Data));
        assert_eq!(read::<u64>("1e20"), Err(Category::Data));
        assert_eq!(read::<i64>("-1e19"), Err(Category::Data));
        assert_eq!(read::<u64>("1e400"), Err(Category::Syntax));
    }

    #[test]
    fn null_and_repeated_members_are_refused() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            #[serde(default)]
            note: Option<String>,
        }
        assert!(read::<Body>(r#"{}"#).is_ok());
        assert_eq!(read::<Body>(r#"{"note":null}"#).unwrap_err(), Category::Data);
        assert_eq!(read::<Vec<Option<u32>>>("[1,null]").unwrap_err(), Category::Data);
        assert_eq!(read::<Body>(r#"{"note":"a","note":"b"}"#).unwrap_err(), Category::Data);
        assert_eq!(read::<Body>(r#"{"note":"a""#).unwrap_err(), Category::Eof);
        assert_eq!(read::<Body>(r#"{"note":"a"} x"#).unwrap_err(), Category::Syntax);
    }
}
