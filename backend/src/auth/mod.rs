//! Identity: password hashing, TOTP, random secrets and the session cookie.

pub mod cookie;
pub mod password;
pub mod secrets;
pub mod totp;
