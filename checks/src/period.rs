//! Alert time periods in Perl `Time::Period` syntax, as ZMON uses them.
//!
//! A period is a comma-separated list of sub-periods; the period holds when
//! any of them does. A sub-period is a list of `scale {ranges}` terms that
//! must all hold. Ranges are inclusive, separated by spaces, and may wrap
//! around (`wd {fr-mo}`, `hr {22-2}`).
//!
//! | scale | alias | values |
//! |---|---|---|
//! | `year` | `yr` | a year such as `2014` (two digits mean 19xx from 70, else 20xx) |
//! | `month` | `mo` | 1-12 or `jan`…`dec` |
//! | `week` | `wk` | 1-6, the week of the month, weeks starting on Sunday |
//! | `yday` | `yd` | 1-366 |
//! | `mday` | `md` | 1-31 |
//! | `wday` | `wd` | 1-7 with 1 = Sunday, or `su`/`sun`/`sunday` … `sa` |
//! | `hour` | `hr` | 0-23, or `12am`, `1am`…`11am`, `12noon`, `12pm`, `1pm`…`11pm` |
//! | `minute` | `min` | 0-59 |
//! | `second` | `sec` | 0-59 |
//!
//! An empty period always holds. Times are evaluated in UTC.

use std::fmt;

use chrono::{DateTime, Datelike, Timelike, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Year,
    Month,
    Week,
    YearDay,
    MonthDay,
    WeekDay,
    Hour,
    Minute,
    Second,
}

impl Scale {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "year" | "yr" => Self::Year,
            "month" | "mo" => Self::Month,
            "week" | "wk" => Self::Week,
            "yday" | "yd" => Self::YearDay,
            "mday" | "md" => Self::MonthDay,
            "wday" | "wd" => Self::WeekDay,
            "hour" | "hr" => Self::Hour,
            "minute" | "min" => Self::Minute,
            "second" | "sec" => Self::Second,
            _ => return None,
        })
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            Self::Year => (1970, 9999),
            Self::Month => (1, 12),
            Self::Week => (1, 6),
            Self::YearDay => (1, 366),
            Self::MonthDay => (1, 31),
            Self::WeekDay => (1, 7),
            Self::Hour => (0, 23),
            Self::Minute | Self::Second => (0, 59),
        }
    }

    fn value_at(self, t: &DateTime<Utc>) -> u32 {
        match self {
            Self::Year => u32::try_from(t.year()).unwrap_or(0),
            Self::Month => t.month(),
            Self::Week => {
                // Weeks of the month start on Sunday.
                let first_weekday =
                    (t.weekday().num_days_from_sunday() + 35 - (t.day() - 1) % 7) % 7;
                (t.day() - 1 + first_weekday) / 7 + 1
            }
            Self::YearDay => t.ordinal(),
            Self::MonthDay => t.day(),
            Self::WeekDay => t.weekday().num_days_from_sunday() + 1,
            Self::Hour => t.hour(),
            Self::Minute => t.minute(),
            Self::Second => t.second(),
        }
    }

    fn value(self, text: &str) -> Option<u32> {
        let lower = text.to_ascii_lowercase();
        match self {
            Self::Month => {
                const MONTHS: [&str; 12] = [
                    "january",
                    "february",
                    "march",
                    "april",
                    "may",
                    "june",
                    "july",
                    "august",
                    "september",
                    "october",
                    "november",
                    "december",
                ];
                if lower.len() >= 3
                    && let Some(i) = MONTHS.iter().position(|m| m.starts_with(&lower))
                {
                    return Some(i as u32 + 1);
                }
            }
            Self::WeekDay => {
                const DAYS: [&str; 7] = [
                    "sunday",
                    "monday",
                    "tuesday",
                    "wednesday",
                    "thursday",
                    "friday",
                    "saturday",
                ];
                if lower.len() >= 2
                    && let Some(i) = DAYS.iter().position(|d| d.starts_with(&lower))
                {
                    return Some(i as u32 + 1);
                }
            }
            Self::Hour => {
                if lower == "12noon" {
                    return Some(12);
                }
                for (suffix, offset) in [("am", 0), ("pm", 12)] {
                    if let Some(n) = lower.strip_suffix(suffix) {
                        let n: u32 = n.parse().ok().filter(|n| (1..=12).contains(n))?;
                        return Some(n % 12 + offset);
                    }
                }
            }
            Self::Year => {
                let n: u32 = lower.parse().ok()?;
                return Some(match (lower.len(), n) {
                    (2, n) if n >= 70 => 1900 + n,
                    (2, n) => 2000 + n,
                    (_, n) => n,
                });
            }
            _ => {}
        }
        lower.parse().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    scale: Scale,
    /// Inclusive ranges; `start > end` wraps around.
    ranges: Vec<(u32, u32)>,
}

impl Term {
    fn holds_at(&self, t: &DateTime<Utc>) -> bool {
        let v = self.scale.value_at(t);
        self.ranges.iter().any(|&(a, b)| {
            if a <= b {
                (a..=b).contains(&v)
            } else {
                v >= a || v <= b
            }
        })
    }
}

/// A parsed period.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Period {
    /// OR of ANDs; empty means "always".
    alternatives: Vec<Vec<Term>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodError(String);

impl fmt::Display for PeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PeriodError {}

fn err(message: impl Into<String>) -> PeriodError {
    PeriodError(message.into())
}

impl Period {
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let mut alternatives = Vec::new();
        if text.trim().is_empty() {
            return Ok(Self { alternatives });
        }
        for part in text.split(',') {
            alternatives.push(Self::parse_sub_period(part)?);
        }
        Ok(Self { alternatives })
    }

    fn parse_sub_period(text: &str) -> Result<Vec<Term>, PeriodError> {
        let mut terms = Vec::new();
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(err("an empty sub-period between commas"));
        }
        while !rest.is_empty() {
            let open = rest
                .find('{')
                .ok_or_else(|| err(format!("expected 'scale {{ranges}}' at '{rest}'")))?;
            let scale_word = rest[..open].trim();
            let scale = Scale::parse(scale_word).ok_or_else(|| {
                err(format!(
                    "unknown scale '{scale_word}' (use yr, mo, wk, yd, md, wd, hr, min or sec)"
                ))
            })?;
            let close = rest[open..]
                .find('}')
                .map(|i| i + open)
                .ok_or_else(|| err(format!("missing '}}' after '{scale_word} {{'")))?;
            let ranges = Self::parse_ranges(scale, scale_word, &rest[open + 1..close])?;
            terms.push(Term { scale, ranges });
            rest = rest[close + 1..].trim_start();
        }
        Ok(terms)
    }

    fn parse_ranges(scale: Scale, word: &str, text: &str) -> Result<Vec<(u32, u32)>, PeriodError> {
        let (min, max) = scale.bounds();
        let value = |s: &str| {
            scale
                .value(s.trim())
                .filter(|v| (min..=max).contains(v))
                .ok_or_else(|| {
                    err(format!(
                        "'{}' is not a valid {word} value ({min}-{max})",
                        s.trim()
                    ))
                })
        };
        let mut ranges = Vec::new();
        for item in text.split_whitespace() {
            let range = match item.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(item)?;
                    (v, v)
                }
            };
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err(err(format!("'{word} {{}}' has no values")));
        }
        Ok(ranges)
    }

    pub fn holds_at(&self, t: &DateTime<Utc>) -> bool {
        self.alternatives.is_empty()
            || self
                .alternatives
                .iter()
                .any(|terms| terms.iter().all(|term| term.holds_at(t)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid time")
    }

    fn holds(period: &str, t: DateTime<Utc>) -> bool {
        Period::parse(period).expect(period).holds_at(&t)
    }

    #[test]
    fn office_hours() {
        // 2026-11-23 is a Monday.
        let p = "wd {Mon-Fri} hr {9-17}";
        assert!(holds(p, at(2026, 11, 23, 9, 0)));
        assert!(holds(p, at(2026, 11, 27, 17, 59)));
        assert!(!holds(p, at(2026, 11, 23, 18, 0)));
        assert!(!holds(p, at(2026, 11, 22, 12, 0)), "Sunday");
    }

    #[test]
    fn scales_and_alternatives() {
        assert!(holds("year {2014}", at(2014, 5, 1, 0, 0)));
        assert!(!holds("year {1980}", at(2014, 5, 1, 0, 0)));
        assert!(holds("min {0-29}", at(2014, 5, 1, 3, 29)));
        assert!(!holds("min {0-29}", at(2014, 5, 1, 3, 30)));
        assert!(holds("mo {jan-mar}, mo {dec}", at(2014, 12, 1, 0, 0)));
        assert!(!holds("mo {jan-mar}, mo {dec}", at(2014, 6, 1, 0, 0)));
        assert!(holds("hr {22-2}", at(2014, 6, 1, 1, 0)), "wraps");
        assert!(
            holds("wd {fr-mo}", at(2026, 11, 22, 1, 0)),
            "wraps over the weekend"
        );
        assert!(holds("hr {12am-1am}", at(2014, 6, 1, 0, 30)));
        assert!(holds("hr {1pm}", at(2014, 6, 1, 13, 30)));
        assert!(holds("md {1 15}", at(2014, 6, 15, 0, 0)));
        assert!(holds("yd {1}", at(2014, 1, 1, 0, 0)));
        // 2026-11-01 is a Sunday: the 8th is in week 2, the 7th in week 1.
        assert!(holds("wk {2}", at(2026, 11, 8, 0, 0)));
        assert!(holds("wk {1}", at(2026, 11, 7, 0, 0)));
        assert!(holds("", at(2014, 1, 1, 0, 0)));
        assert!(holds("yr {14}", at(2014, 1, 1, 0, 0)));
    }

    #[test]
    fn malformed_periods_are_explained() {
        for (text, expected) in [
            ("hour {25}", "'25' is not a valid hour value (0-23)"),
            ("weekday {Mon}", "unknown scale 'weekday'"),
            ("wd {Mon-Fri", "missing '}'"),
            ("wd Mon", "expected 'scale {ranges}'"),
            ("wd {}", "has no values"),
            ("wd {Mon},", "an empty sub-period"),
            ("mo {janx}", "'janx' is not a valid mo value"),
            ("hr {13pm}", "'13pm' is not a valid hr value"),
        ] {
            let e = Period::parse(text).expect_err(text).to_string();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
