//! Helpers for the end-to-end tests: start real binaries on loopback, port 0.
