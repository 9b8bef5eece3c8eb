//! Random bytes from the kernel's `getrandom(2)`, called directly.
//!
//! The getrandom crate finds the libc function with `dlsym`, which a
//! static-pie binary (the CLI as it ships) does not have, and then falls back
//! to polling `/dev/random` and reading `/dev/urandom`: five system calls
//! instead of one, and no randomness at all in a chroot without `/dev`.

use nix::errno::Errno;

/// Fills `buf` from the kernel's pool; false if the kernel refuses
/// (`ENOSYS` on a pre-3.17 kernel, or a seccomp filter).
pub(crate) fn fill(buf: &mut [u8]) -> bool {
    let mut filled = 0;
    while filled < buf.len() {
        let rest = &mut buf[filled..];
        // The pointer and length describe `rest`, the unfilled tail
        // of a byte buffer this function borrows exclusively; the kernel
        // writes at most `rest.len()` bytes there, and any bit pattern is a
        // valid `u8`. No shared memory is involved.
        // SAFETY: the kernel writes at most `rest.len()` bytes into our own exclusive buffer (argued above).
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match usize::try_from(n) {
            Ok(n) => filled += n,
            Err(_) if Errno::last() == Errno::EINTR => {}
            Err(_) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn two_fills_differ_and_fill_every_byte() {
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        assert!(fill(&mut a) && fill(&mut b));
        assert_ne!(a, b);
        // 64 random bytes are all zero with probability 2^-512.
        assert!(a.iter().any(|&x| x != 0));
    }
}
