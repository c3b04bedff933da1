//! Exact arithmetic modulo the prime 2^61 − 1, for deciding whether a hidden cell lies in
//! the span of shown ones (the protection's family check, and the tests' attackers).

/// The prime.
pub const P: u64 = (1 << 61) - 1;

/// `a · b mod P`.
pub fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

/// The inverse of `a ≠ 0` (Fermat: `a^(P−2)`).
pub fn inverse(a: u64) -> u64 {
    let (mut base, mut e, mut out) = (a, P - 2, 1u64);
    while e > 0 {
        if e & 1 == 1 {
            out = mul(out, base);
        }
        base = mul(base, base);
        e >>= 1;
    }
    out
}
