//! Identity across boards and machines: a random 128-bit id for every clip,
//! and one for every board (its node id), made when the board is created.
//! The bridge and the archive recognise a clip and its origin by these,
//! without comparing bytes.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use twox_hash::XxHash3_128;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 16]);

        impl $name {
            /// A fresh random id from the kernel's generator.
            #[must_use]
            pub fn random() -> Self {
                $name(random_bytes())
            }

            /// All zero: "none", as a slot of an older build would hold.
            #[must_use]
            pub fn is_nil(&self) -> bool {
                self.0 == [0; 16]
            }
        }

        impl fmt::Display for $name {
            /// 32 lowercase hex digits.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl FromStr for $name {
            type Err = String;

            /// 32 hex digits, either case.
            fn from_str(s: &str) -> Result<Self, String> {
                parse_hex(s).map($name).ok_or_else(|| {
                    format!("{s:?} is not an id: expected 32 hex digits")
                })
            }
        }
    };
}

id_type!(
    /// A clip's identity: random, made when it is first copied, kept when
    /// it moves, is restored, or crosses to another board.
    ClipId
);
id_type!(
    /// A board's identity, made with the board: the origin of its clips.
    NodeId
);

fn parse_hex(s: &str) -> Option<[u8; 16]> {
    let s = s.as_bytes();
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

/// 16 bytes, unique and unpredictable without this process's key: xxh3-128
/// of a 128-bit key drawn once per process from the kernel, the pid (a
/// forked child shares the key, not the pid) and a counter. One syscall per
/// process, not per copy (it was a quarter of a copy's time).
pub(crate) fn random_bytes() -> [u8; 16] {
    static KEY: OnceLock<[u8; 16]> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let key = KEY.get_or_init(kernel_random);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut input = [0u8; 28];
    input[..16].copy_from_slice(key);
    input[16..20].copy_from_slice(&crate::sys::pid().to_ne_bytes());
    input[20..].copy_from_slice(&n.to_ne_bytes());
    XxHash3_128::oneshot(&input).to_ne_bytes()
}

/// 16 bytes from `getrandom(2)`, which needs no `/dev/urandom` (a chroot
/// may lack it). It waits for the kernel's pool at boot, and fails only
/// where the system call is refused (seccomp, ENOSYS); then time and pid
/// keep ids distinct, if guessable.
fn kernel_random() -> [u8; 16] {
    let mut b = [0u8; 16];
    if !crate::sys::random_fill(&mut b) {
        b[..8].copy_from_slice(&now_ns().to_ne_bytes());
        b[8..12].copy_from_slice(&crate::sys::pid().to_ne_bytes());
    }
    b
}

/// Wall-clock time, ns since the Unix epoch.
pub(crate) fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_round_trip_as_hex() {
        let a = ClipId::random();
        assert_ne!(a, ClipId::random());
        assert!(!a.is_nil());
        assert_eq!(a.to_string().len(), 32);
        assert_eq!(a.to_string().parse::<ClipId>(), Ok(a));
        assert_eq!(
            "00FF00ff00ff00ff00ff00ff00ff00ff"
                .parse::<NodeId>()
                .map(|n| n.0[1]),
            Ok(0xff)
        );
        assert!("xyz".parse::<NodeId>().is_err());
        assert!("0g".repeat(16).parse::<NodeId>().is_err());
    }
}
