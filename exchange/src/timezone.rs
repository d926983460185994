//! Time zones as profiles write them, for the "local time" people see and for matching's
//! waking-hours overlap: both must read a zone the same way.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A time zone as profiles give it: an IANA zone, whose offset follows daylight saving,
/// or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Zone {
    Iana(Tz),
    /// Minutes east of UTC.
    Fixed(i32),
}

impl Zone {
    /// Reads what `parse::normalize_timezone` writes: an IANA name or `UTC±HH:MM`.
    pub fn parse(text: &str) -> Option<Zone> {
        let text = text.trim();
        if let Ok(tz) = text.parse::<Tz>() {
            return Some(Zone::Iana(tz));
        }
        if let Ok(tz) = Tz::from_str_insensitive(&text.replace(' ', "_")) {
            return Some(Zone::Iana(tz));
        }
        let rest = text
            .strip_prefix("UTC")
            .or_else(|| text.strip_prefix("GMT"))?;
        let (sign, rest) = match rest.as_bytes().first()? {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return None,
        };
        let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
        let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
        ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(Zone::Fixed(sign * (h * 60 + m)))
    }

    /// Minutes east of UTC at `now` (IANA zones change with daylight saving).
    pub fn offset_minutes(self, now: DateTime<Utc>) -> i32 {
        match self {
            Zone::Iana(tz) => {
                tz.offset_from_utc_datetime(&now.naive_utc())
                    .fix()
                    .local_minus_utc()
                    / 60
            }
            Zone::Fixed(minutes) => minutes,
        }
    }
}

/// The person's local time at `now`, or `None` when the zone cannot be read.
pub fn local_time(zone: &str, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let minutes = Zone::parse(zone)?.offset_minutes(now);
    let offset = FixedOffset::east_opt(minutes * 60)?;
    Some(now.with_timezone(&offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_zones_follow_daylight_saving_and_offsets_are_fixed() {
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap();
        assert_eq!(
            local_time("Europe/Warsaw", winter)
                .unwrap()
                .format("%H:%M")
                .to_string(),
            "13:00"
        );
        assert_eq!(
            local_time("Europe/Warsaw", summer)
                .unwrap()
                .format("%H:%M")
                .to_string(),
            "14:00"
        );
        assert_eq!(
            local_time("America/Recife", summer)
                .unwrap()
                .format("%H:%M")
                .to_string(),
            "09:00"
        );
        assert_eq!(
            local_time("UTC+05:30", winter)
                .unwrap()
                .format("%H:%M")
                .to_string(),
            "17:30"
        );
        assert_eq!(
            local_time("UTC-03:00", winter)
                .unwrap()
                .format("%H:%M")
                .to_string(),
            "09:00"
        );
        assert!(local_time("Mars/Olympus", winter).is_none());
        assert!(local_time("UTC+15:00", winter).is_none());
    }
}
