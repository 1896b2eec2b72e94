//! Timestamps: milliseconds since the Unix epoch, printed as RFC 3339 (RFC 7643 §2.3.5).

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant with millisecond precision (what `meta.created` and `meta.lastModified` carry,
/// so that a value a client read back compares equal to the stored one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
    }
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    pub fn millis(self) -> i64 {
        self.0
    }
    /// Parses an RFC 3339 date-time with any fractional precision and offset.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).ok()?;
        i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000_000))
            .ok()
            .map(Self)
    }
    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-23T10:44:00.123Z`.
    pub fn to_rfc3339(self) -> String {
        let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }
    pub fn plus_seconds(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_prints_and_parses_back() {
        let t = Timestamp::from_millis(1_763_894_640_123);
        assert_eq!(t.to_rfc3339(), "2025-11-23T10:44:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
    }

    #[test]
    fn offsets_and_long_fractions_are_read() {
        let t = Timestamp::parse_rfc3339("2015-10-10T14:38:21.8617979-07:00");
        assert_eq!(
            t.map(Timestamp::to_rfc3339).as_deref(),
            Some("2015-10-10T21:38:21.861Z")
        );
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
