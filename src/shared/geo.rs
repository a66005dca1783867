//! Positions on the earth and distances between them, for "nearest store with my size".

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidPosition {
    #[error("near must be \"latitude,longitude\" in decimal degrees, got {0:?}")]
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

    /// Parses the `near=lat,lng` query form.
    pub fn parse_near(text: &str) -> Result<Self, InvalidPosition> {
        let bad = || InvalidPosition::Format(text.chars().take(40).collect());
        let (lat, lng) = text.split_once(',').ok_or_else(bad)?;
        let lat: f64 = lat.trim().parse().map_err(|_| bad())?;
        let lng: f64 = lng.trim().parse().map_err(|_| bad())?;
        Position::new(lat, lng)
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
        let p = Position::parse_near("52.37, 4.89").unwrap();
        assert_eq!(p.latitude, 52.37);
        for bad in ["52.37", "a,b", "91,0", "0,181", "NaN,0", "inf,0", ""] {
            assert!(Position::parse_near(bad).is_err(), "{bad}");
        }
        assert!(RadiusKm::parse("0").is_err());
        assert!(RadiusKm::parse("-3").is_err());
        assert_eq!(RadiusKm::parse("2.5").unwrap().get(), 2.5);
    }
}
