//! Looking for a marker in raw bytes: how the tests that prove a secret or
//! a deleted clip left no trace read a segment image or a file.

use std::path::Path;

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether `needle` occurs in the file at `path` (false for a missing file).
pub fn file_contains(path: &Path, needle: impl AsRef<[u8]>) -> bool {
    std::fs::read(path).is_ok_and(|b| contains(&b, needle))
}

/// [`file_contains`], ignoring ASCII case: the archive's full-text index
/// stores words folded to lower case, so a marker must not be found there
/// in any case.
pub fn file_contains_folded(path: &Path, needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref().to_ascii_lowercase();
    std::fs::read(path).is_ok_and(|b| contains(&b.to_ascii_lowercase(), needle))
}
