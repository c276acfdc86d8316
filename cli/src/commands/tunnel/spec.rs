//! The forwards `gate tunnel` was asked for: `-l LPORT -r RPORT` and each
//! `-L [BIND:]LPORT:HOST:RPORT` (IPv6 addresses in brackets).

use crate::args::TunnelArgs;
use crate::exit::CliError;

/// One local listener and the target it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub bind: String,
    pub local_port: u16,
    pub remote_host: String,
    pub remote_port: u16,
}

pub fn forwards(args: &TunnelArgs) -> Result<Vec<Forward>, CliError> {
    let mut out = Vec::new();
    if let (Some(local_port), Some(remote_port)) = (args.local_port, args.remote_port) {
        out.push(Forward {
            bind: args.bind.clone(),
            local_port,
            remote_host: "127.0.0.1".into(),
            remote_port,
        });
    }
    for text in &args.forward {
        out.push(parse(text).map_err(|e| CliError::usage(format!("-L {text}: {e}")))?);
    }
    if out.is_empty() {
        return Err(CliError::usage(
            "say what to forward: -l LPORT -r RPORT, or -L [BIND:]LPORT:HOST:RPORT",
        ));
    }
    if out.iter().any(|f| f.remote_port == 0) {
        return Err(CliError::usage("the remote port must be 1-65535"));
    }
    Ok(out)
}

/// Splits on `:` outside brackets, and drops the brackets.
fn fields(text: &str) -> Result<Vec<String>, String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '[' if depth == 0 => depth = 1,
            ']' if depth == 1 => depth = 0,
            ':' if depth == 0 => parts.push(String::new()),
            c => parts.last_mut().map(|p| p.push(c)).unwrap_or_default(),
        }
    }
    if depth != 0 {
        return Err("an unclosed [".into());
    }
    Ok(parts)
}

fn port(text: &str, what: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{what} {text:?} is not a port number"))
}

pub fn parse(text: &str) -> Result<Forward, String> {
    let parts = fields(text)?;
    let (bind, rest) = match parts.len() {
        3 => ("127.0.0.1".to_owned(), &parts[..]),
        4 => (parts[0].clone(), &parts[1..]),
        _ => return Err("expected [BIND:]LPORT:HOST:RPORT".into()),
    };
    if rest[1].is_empty() || bind.is_empty() {
        return Err("empty host".into());
    }
    Ok(Forward {
        bind,
        local_port: port(&rest[0], "local port")?,
        remote_host: rest[1].clone(),
        remote_port: port(&rest[2], "remote port")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_parse_like_ssh() {
        let f = parse("8080:127.0.0.1:80").expect("three fields");
        assert_eq!(
            f,
            Forward {
                bind: "127.0.0.1".into(),
                local_port: 8080,
                remote_host: "127.0.0.1".into(),
                remote_port: 80
            }
        );
        let f = parse("0.0.0.0:0:db.lan:5432").expect("four fields");
        assert_eq!((f.bind.as_str(), f.local_port), ("0.0.0.0", 0));
        assert_eq!((f.remote_host.as_str(), f.remote_port), ("db.lan", 5432));
        let f = parse("[::1]:9000:[fd00::5]:22").expect("v6");
        assert_eq!(
            (f.bind.as_str(), f.remote_host.as_str()),
            ("::1", "fd00::5")
        );
        for bad in [
            "80",
            "1:2",
            "a:h:80",
            "1:h:x",
            "1::80",
            "[::1:1:h:2",
            "1:2:3:4:5",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
