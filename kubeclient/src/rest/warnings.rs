//! `Warning` response headers (RFC 7234 §5.5, as Kubernetes sends them:
//! `299 - "message"`), parsed and handed to a [`WarningHandler`]. As in client-go, only
//! warnings with code 299 are surfaced; the default handler logs each distinct message once.

use std::collections::HashSet;
use std::fmt;
use std::sync::Mutex;

/// Receives the warnings the API server attaches to responses (deprecated APIs, unknown fields
/// with `fieldValidation=Warn`, ...).
pub trait WarningHandler: Send + Sync + fmt::Debug {
    /// Called once per warning per response.
    fn handle_warning(&self, message: &str);
}

/// The default handler: logs each distinct message once (client-go's deduplicating
/// `WarningLogger`), at warn level.
#[derive(Debug, Default)]
pub struct LogWarningsOnce {
    seen: Mutex<HashSet<String>>,
}

impl WarningHandler for LogWarningsOnce {
    fn handle_warning(&self, message: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.insert(message.to_string()) {
            tracing::warn!(warning = %message, "the API server sent a warning");
        }
    }
}

/// The messages of the code-299 warnings in one `Warning` header value. Malformed warnings
/// are skipped, as client-go does; nothing here can panic on bad input.
pub fn parse_warning_header(value: &str) -> Vec<String> {
    let mut messages = Vec::new();
    let mut rest = value.trim_start();
    while !rest.is_empty() {
        let Some((warning, remaining)) = parse_one(rest) else {
            break;
        };
        if let Some((299, text)) = warning {
            messages.push(text);
        }
        rest = remaining.trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start(),
            None => break,
        }
    }
    messages
}

/// Parses `code SP agent SP "text" [SP "date"]` at the start of `s`; returns the warning and
/// the rest of `s`.
fn parse_one(s: &str) -> Option<(Option<(u16, String)>, &str)> {
    let (code, s) = s.split_once(' ')?;
    let code: u16 = code.parse().ok().filter(|c| (100..1000).contains(c))?;
    let (_agent, s) = s.split_once(' ')?;
    let (text, mut s) = quoted(s)?;
    if let Some(after) = s.strip_prefix(' ')
        && after.starts_with('"')
    {
        s = quoted(after)?.1; // the optional warn-date
    }
    Some((Some((code, text)), s))
}

/// A quoted-string at the start of `s` (backslash escapes any character); its text and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let mut chars = s.strip_prefix('"')?.char_indices();
    let mut text = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => text.push(chars.next()?.1),
            '"' => return Some((text, &s[i + 2..])),
            c => text.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_warnings_parse_with_escapes_dates_and_lists() {
        assert_eq!(
            parse_warning_header(r#"299 - "policy/v1beta1 PodSecurityPolicy is deprecated""#),
            vec!["policy/v1beta1 PodSecurityPolicy is deprecated"]
        );
        assert_eq!(
            parse_warning_header(
                r#"299 - "unknown field \"spec.foo\"" "Sat, 01 Jan 2000 00:00:00 GMT", 299 kube "second""#
            ),
            vec![r#"unknown field "spec.foo""#, "second"]
        );
    }

    #[test]
    fn other_codes_and_malformed_values_are_skipped_without_panicking() {
        assert!(parse_warning_header(r#"199 - "misc""#).is_empty());
        for bad in [
            "",
            "299",
            "299 -",
            r#"299 - "unterminated"#,
            r#"abc - "x""#,
            "299 - \"\\",
            "\u{e9}\u{e9} - \"x\"",
        ] {
            assert!(parse_warning_header(bad).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn the_default_handler_remembers_what_it_logged() {
        let handler = LogWarningsOnce::default();
        handler.handle_warning("a");
        handler.handle_warning("a");
        handler.handle_warning("b");
        assert_eq!(handler.seen.lock().map(|s| s.len()).unwrap_or(0), 2);
    }
}
