//! Positions on the earth and distances between them, for "nearest store with my size".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidPosition {
    #[error("near must be \"latitude,longitude\" in plain decimal degrees such as \"52.3676,4.9041\", got {0:?}")]
    Format(String),
    #[error("latitude must be within -90..90 and longitude within -180..180")]
    OutOfRange,
    #[error("radius_km must be a number greater than 0 and at most 20000")]
    Radius,
}

/// A WGS84 position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawPosition")]
pub struct Position {
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPosition {
    latitude: f64,
    longitude: f64,
}
impl TryFrom<RawPosition> for Position {
    type Error = InvalidPosition;
    fn try_from(r: RawPosition) -> Result<Self, InvalidPosition> {
        Position::new(r.latitude, r.longitude)
    }
}

const EARTH_RADIUS_KM: f64 = 6371.0088;

impl Position {
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, InvalidPosition> {
        if latitude.is_finite()
            && longitude.is_finite()
            && (-90.0..=90.0).contains(&latitude)
            && (-180.0..=180.0).contains(&longitude)
        {
            Ok(Self { latitude, longitude })
        } else {
            Err(InvalidPosition::OutOfRange)
        }
    }

    /// Parses the `near=lat,lng` query form: two plain decimals (`52.3676,4.9041`), no
    /// exponent, sign `+`, spaces or leading zeros, so that a pattern can say exactly
    /// what is accepted. The range is judged on the digits, before any rounding.
    pub fn parse_near(text: &str) -> Result<Self, InvalidPosition> {
        let bad = || InvalidPosition::Format(text.chars().take(40).collect());
        let (lat, lng) = text.split_once(',').ok_or_else(bad)?;
        let lat = decimal_degrees(lat, 90).ok_or_else(bad)?;
        let lng = decimal_degrees(lng, 180).ok_or_else(bad)?;
        Position::new(lat?, lng?)
    }

    /// Great-circle distance in kilometres (haversine).
    pub fn distance_km(&self, other: &Position) -> f64 {
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlng = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlng / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

/// Reads `-?(0|[1-9][0-9]*)(.[0-9]+)?` as degrees: None when it is not that form,
/// out of range when beyond `max` either way.
fn decimal_degrees(text: &str, max: u32) -> Option<Result<f64, InvalidPosition>> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (whole.len() > 1 && whole.starts_with('0')) || !fraction.is_none_or(digits) {
        return None;
    }
    let within = whole.len() <= 3 && {
        let whole: u32 = whole.parse().ok()?;
        whole < max || (whole == max && fraction.is_none_or(|f| f.bytes().all(|b| b == b'0')))
    };
    Some(if within { text.parse().map_err(|_| InvalidPosition::OutOfRange) } else { Err(InvalidPosition::OutOfRange) })
}

/// A search radius in kilometres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64")]
pub struct RadiusKm(f64);

impl RadiusKm {
    pub fn new(km: f64) -> Result<Self, InvalidPosition> {
        if km.is_finite() && km > 0.0 && km <= 20_000.0 {
            Ok(Self(km))
        } else {
            Err(InvalidPosition::Radius)
        }
    }
    pub fn parse(text: &str) -> Result<Self, InvalidPosition> {
        text.trim().parse().map_err(|_| InvalidPosition::Radius).and_then(RadiusKm::new)
    }
    pub fn get(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for RadiusKm {
    type Error = InvalidPosition;
    fn try_from(km: f64) -> Result<Self, InvalidPosition> {
        RadiusKm::new(km)
    }
}

/// Deserializes a latitude in decimal degrees, refusing values outside -90..90.
pub fn latitude<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    Position::new(v, 0.0).map(|_| v).map_err(serde::de::Error::custom)
}

/// Deserializes a longitude in decimal degrees, refusing values outside -180..180.
pub fn longitude<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = f64::deserialize(d)?;
    Position::new(0.0, v).map(|_| v).map_err(serde::de::Error::custom)
}

/// Rounds a distance for display (metre precision).
pub fn round_km(km: f64) -> f64 {
    (km * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amsterdam_to_rotterdam_is_about_57_km() {
        let ams = Position::new(52.3676, 4.9041).unwrap();
        let rtm = Position::new(51.9244, 4.4777).unwrap();
        let d = ams.distance_km(&rtm);
        assert!((d - 57.0).abs() < 1.5, "{d}");
        assert_eq!(ams.distance_km(&ams), 0.0);
    }

    #[test]
    fn parses_near_and_refuses_nonsense() {
        let p = Position::parse_near("52.37,4.89").unwrap();
        assert_eq!(p.latitude, 52.37);
        assert_eq!(Position::parse_near("-90.000,180.0").unwrap().longitude, 180.0);
        assert_eq!(Position::parse_near("0,-0.5").unwrap().longitude, -0.5);
        for bad in ["52.37", "a,b", "NaN,0", "inf,0", "", "52.37, 4.89", "+52,4", "052,4", "5e1,4", "52.,4", ".5,4", "52,4,1"] {
            assert!(matches!(Position::parse_near(bad), Err(InvalidPosition::Format(_))), "{bad}");
        }
        for far in ["91,0", "0,181", "90.0001,0", "-90.00000000000000000001,0", "1000,0"] {
            assert_eq!(Position::parse_near(far), Err(InvalidPosition::OutOfRange), "{far}");
        }
        assert!(RadiusKm::parse("0").is_err());
        assert!(RadiusKm::parse("-3").is_err());
        assert_eq!(RadiusKm::parse("2.5").unwrap().get(), 2.5);
    }
}
