//! Time conventions of the ZMON API: `last_modified` in epoch milliseconds,
//! downtimes and status in epoch seconds.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer};

/// Where components read the current time, so tests can replay documented
/// examples at the moment they were recorded.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until it is set.
#[derive(Debug)]
pub struct FixedClock {
    millis: AtomicI64,
}

impl FixedClock {
    pub fn at_millis(millis: i64) -> Self {
        Self {
            millis: AtomicI64::new(millis),
        }
    }

    pub fn set_millis(&self, millis: i64) {
        self.millis.store(millis, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(self.millis.load(Ordering::SeqCst))
            .single()
            .unwrap_or_default()
    }
}

pub fn epoch_millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_epoch_seconds(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(secs, 0).single()
}

/// The format ZMON uses for an entity's `last_modified` in list responses;
/// the official CLI parses it with `%Y-%m-%d %H:%M:%S.%f` to sort entities.
pub fn entity_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// An epoch-seconds value as clients send it. The official zmon-cli sends
/// floats (`time.time()`), curl users send integers; both are accepted and
/// truncated to whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSeconds(pub i64);

impl<'de> Deserialize<'de> for EpochSeconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = serde_json::Number::deserialize(deserializer)?;
        if let Some(i) = n.as_i64() {
            return Ok(EpochSeconds(i));
        }
        match n.as_f64() {
            Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(EpochSeconds(f.trunc() as i64)),
            _ => Err(serde::de::Error::custom(format!(
                "{n} is not a usable epoch time in seconds"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_truncated_to_seconds() {
        let v: EpochSeconds = serde_json::from_str("1408665600.987").expect("float");
        assert_eq!(v, EpochSeconds(1408665600));
        let v: EpochSeconds = serde_json::from_str("1408665600").expect("int");
        assert_eq!(v, EpochSeconds(1408665600));
        assert!(serde_json::from_str::<EpochSeconds>("\"soon\"").is_err());
        assert!(serde_json::from_str::<EpochSeconds>("1e300").is_err());
    }

    #[test]
    fn fixed_clock_stands_still_until_set() {
        let clock = FixedClock::at_millis(1_409_076_149_956);
        assert_eq!(clock.now().timestamp_millis(), 1_409_076_149_956);
        clock.set_millis(5_000);
        assert_eq!(clock.now().timestamp(), 5);
    }

    #[test]
    fn entity_timestamp_matches_cli_format() {
        let t = Utc
            .timestamp_opt(1_700_000_000, 123_456_000)
            .single()
            .expect("valid");
        assert_eq!(entity_timestamp(t), "2023-11-14 22:13:20.123456");
    }
}
