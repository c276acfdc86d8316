//! Random secrets (session cookies, API tokens, agent keys) and the hashes we store instead.

use data_encoding::BASE64URL_NOPAD;
use gatehouse_shared::signin::USER_CODE_ALPHABET;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 32 random bytes from the OS, URL-safe base64.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    BASE64URL_NOPAD.encode(&bytes)
}

/// Hex SHA-256 of a high-entropy secret. (Passwords use argon2id; these secrets are random
/// 256-bit values, for which a fast hash is enough and keeps every request cheap.)
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Constant-time comparison of two strings.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Characters of generated passwords: no look-alikes (0/O, 1/l/I), so one read aloud or copied
/// by hand comes through.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A password of `len` characters drawn uniformly from an unambiguous alphabet (56 symbols:
/// 12 characters carry about 70 bits).
pub fn random_password(len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(PASSWORD_ALPHABET[rng.gen_range(0..PASSWORD_ALPHABET.len())]))
        .collect()
}

/// A device sign-in's user code, `XXXX-XXXX` from [`USER_CODE_ALPHABET`]: 20⁸ (about 34 bits),
/// enough for a code that lives ten minutes and is only accepted from a signed-in person.
pub fn random_user_code() -> String {
    use rand::Rng;
    let alphabet = USER_CODE_ALPHABET.as_bytes();
    let mut rng = rand::rngs::OsRng;
    let mut code: String = (0..8)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect();
    code.insert(4, '-');
    code
}
