//! The values of `config.toml` that carry a unit: byte sizes (`"64M"`) and
//! lengths of time (`"90d"`), with the one parser of each.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A byte size: an integer, or a string with a binary unit such as `"64M"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size(pub u64);

impl Size {
    /// Parses `4096`, `64K`, `64M`, `1.5G`, `1GiB`, `2T`, `512mb`: binary
    /// units (1K = 1024), a fraction if it comes to whole bytes. The one size
    /// parser of config.toml and the CLI.
    pub fn parse(text: &str) -> std::result::Result<Size, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let not_a_size = || {
            format!("{text:?} is not a size; use a number with an optional K, M, G or T, like 64M")
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() || fraction.contains('.') || fraction.len() > 9 {
            return Err(not_a_size());
        }
        let whole: u64 = whole.parse().map_err(|_| not_a_size())?;
        let shift = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            "t" | "tb" | "tib" => 40,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {text:?}; use K, M, G or T (binary: 1K = 1024)"
                ));
            }
        };
        let too_large = || format!("{text} is too large");
        let mut bytes = whole.checked_mul(1 << shift).ok_or_else(too_large)?;
        if !fraction.is_empty() {
            // digits / 10^n of the unit, in whole bytes only.
            let digits: u128 = fraction.parse().map_err(|_| not_a_size())?;
            let scale = 10u128.pow(fraction.len() as u32);
            let part = digits << shift;
            if !part.is_multiple_of(scale) {
                return Err(format!(
                    "{text} is not a whole number of bytes; give the size in a smaller unit"
                ));
            }
            let part = u64::try_from(part / scale).map_err(|_| too_large())?;
            bytes = bytes.checked_add(part).ok_or_else(too_large)?;
        }
        Ok(Size(bytes))
    }
}

impl fmt::Display for Size {
    /// The shortest exact spelling: `64M`, `1536K`, `1000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (shift, unit) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] {
            if n != 0 && n.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n}")
    }
}

impl Serialize for Size {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Size, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size in bytes, or a string like \"64M\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom(format!("a size cannot be negative ({v})")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Size, E> {
                Size::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// A length of time: an integer of seconds, or a string with a unit such as
/// `"30d"` (s, m, h, d, w).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Age(pub std::time::Duration);

impl Age {
    /// Parses `90s`, `45m`, `12h`, `30d`, `2w` or plain seconds. The one
    /// parser of config.toml's `archive.max_age` and `archive prune --older-than`.
    pub fn parse(text: &str) -> std::result::Result<Age, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| {
            format!("{text:?} is not a length of time; use a number with s, m, h, d or w, like 30d")
        })?;
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => {
                return Err(format!(
                    "unknown unit {unit:?} in {text:?}; use s, m, h, d or w (30d is 30 days)"
                ));
            }
        };
        number
            .checked_mul(secs)
            .map(|s| Age(std::time::Duration::from_secs(s)))
            .ok_or_else(|| format!("{text} is too long"))
    }
}

impl fmt::Display for Age {
    /// The shortest exact spelling: `30d`, `2w`, `90s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.as_secs();
        for (secs, unit) in [(7 * 86_400, "w"), (86_400, "d"), (3600, "h"), (60, "m")] {
            if n != 0 && n.is_multiple_of(secs) {
                return write!(f, "{}{unit}", n / secs);
            }
        }
        write!(f, "{n}s")
    }
}

impl Serialize for Age {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Age {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Age, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Age;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("seconds, or a string like \"30d\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Age, E> {
                Ok(Age(std::time::Duration::from_secs(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Age, E> {
                u64::try_from(v)
                    .map(|v| Age(std::time::Duration::from_secs(v)))
                    .map_err(|_| E::custom(format!("a length of time cannot be negative ({v})")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Age, E> {
                Age::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_display_exactly() {
        assert_eq!(Size(64 << 20).to_string(), "64M");
        assert_eq!(Size(1536 << 10).to_string(), "1536K");
        assert_eq!(Size(1000).to_string(), "1000");
        assert_eq!(Size::parse("2G"), Ok(Size(2 << 30)));
    }

    #[test]
    fn a_size_may_have_a_fraction_that_comes_to_whole_bytes() {
        assert_eq!(Size::parse("1.5M"), Ok(Size(1536 << 10)));
        assert_eq!(Size::parse("0.5K"), Ok(Size(512)));
        assert_eq!(Size::parse("2.25G"), Ok(Size(9 << 28)));
        assert_eq!(Size::parse("3."), Ok(Size(3)));
        let err = Size::parse("0.1K").unwrap_err();
        assert!(err.contains("not a whole number of bytes"), "{err}");
        for bad in [".5M", "1.2.3M", "-5M", "1.5.M", "1.0000000001K"] {
            assert!(Size::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Size::parse("16777216.5T")
                .unwrap_err()
                .contains("too large")
        );
    }
}
