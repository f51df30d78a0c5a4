//! `-v LEVEL` (`-v=6`, `--v=8`): kubectl's log verbosity, as a `tracing` subscriber that
//! writes the library's events to stderr in klog's line format
//! (`I1129 09:10:22.048050   23519 client.rs:512] "Response" verb="GET" ...`).
//!
//! What each level shows, following kubectl 1.37:
//! - at every level, the library's warnings and errors (klog prints those whatever `-v` is;
//!   e.g. a client-side throttling wait over a second, an ambiguous short name);
//! - 2 and up: its informational events; 5 and up: its debug events;
//! - 6 and up: one line per request attempt, as kubectl's `-v=6`:
//!   `"Response" verb="GET" url="https://…/api/v1/pods" status="200 OK" milliseconds=5`
//!   (with `status=""` and the error when no answer came);
//! - 8 and up: `"Request Body"` and `"Response Body"` lines, cut to 1024 characters at 8 and
//!   10240 at 9, whole from 10, as kubectl cuts them. Unlike kubectl, which prints Secrets as
//!   they are, the bodies come from the library with secret values already replaced (see
//!   `kubeclient::rest::BODY_TARGET`), and headers (so `Authorization`) are never shown;
//! - 9 and up: the library's trace events.
//!
//! Server warnings are not log lines: they are printed as `Warning: …` at every level (see
//! the `warnings` module).

use std::fmt::Write as _;
use std::io::Write as _;

use kubeclient::rest::{BODY_TARGET, ROUND_TRIP_TARGET};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the subscriber for `verbosity` (kubectl's `-v`).
pub fn init(verbosity: u8) {
    let lines = KlogLines {
        body_limit: match verbosity {
            0..=8 => Some(1024),
            9 => Some(10240),
            _ => None,
        },
    };
    let _ = tracing_subscriber::registry()
        .with(lines.with_filter(filter(verbosity)))
        .try_init();
}

/// Which events each verbosity lets through.
fn filter(verbosity: u8) -> Targets {
    let general = match verbosity {
        0..=1 => LevelFilter::WARN,
        2..=4 => LevelFilter::INFO,
        5..=8 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let from = |level: u8, filter: LevelFilter| {
        if verbosity >= level {
            filter
        } else {
            LevelFilter::OFF
        }
    };
    Targets::new()
        .with_target("kubeclient", general)
        .with_target(ROUND_TRIP_TARGET, from(6, LevelFilter::DEBUG))
        .with_target(BODY_TARGET, from(8, LevelFilter::TRACE))
}

/// Writes each event as one klog line on stderr.
struct KlogLines {
    /// Where bodies are cut (`None`: never).
    body_limit: Option<usize>,
}

impl<S: Subscriber> Layer<S> for KlogLines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let mut line = klog_header(meta);
        line.push_str(&self.body(meta.target(), fields));
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

impl KlogLines {
    /// The part of the line after the header.
    fn body(&self, target: &str, mut fields: Fields) -> String {
        match target {
            ROUND_TRIP_TARGET => {
                let status = fields
                    .take_text("status")
                    .map(|code| status_text(&code))
                    .unwrap_or_default();
                let mut out = format!(
                    "\"Response\" verb={} url={} status={}",
                    quote(&fields.take_text("verb").unwrap_or_default()),
                    quote(&fields.take_text("url").unwrap_or_default()),
                    quote(&status)
                );
                let ms = fields.take_text("milliseconds").unwrap_or_default();
                let _ = write!(out, " milliseconds={ms}");
                out.push_str(&fields.rest());
                out
            }
            BODY_TARGET => {
                let message = match fields.message.as_str() {
                    "request body" => "Request Body",
                    _ => "Response Body",
                };
                let body = fields.take_text("body").unwrap_or_default();
                format!("{} body={}", quote(message), quote(&self.cut(&body)))
            }
            _ => format!("{}{}", quote(&fields.message), fields.rest()),
        }
    }

    /// `body` cut as kubectl cuts it: the first `body_limit` bytes (on a character boundary)
    /// and ` [truncated N chars]`.
    fn cut(&self, body: &str) -> String {
        match self.body_limit {
            Some(limit) if body.len() > limit => {
                let mut end = limit;
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{} [truncated {} chars]", &body[..end], body.len() - end)
            }
            _ => body.to_string(),
        }
    }
}

/// klog's `Lmmdd hh:mm:ss.uuuuuu threadid file:line] `, with the process id as kubectl shows.
fn klog_header(meta: &tracing::Metadata<'_>) -> String {
    let level = match *meta.level() {
        Level::ERROR => 'E',
        Level::WARN => 'W',
        _ => 'I',
    };
    let now = jiff::Zoned::now().strftime("%m%d %H:%M:%S%.6f").to_string();
    let file = meta
        .file()
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .unwrap_or("?");
    format!(
        "{level}{now} {:>7} {file}:{}] ",
        std::process::id(),
        meta.line().unwrap_or(0)
    )
}

/// `200 OK`, as Go's `Response.Status`.
fn status_text(code: &str) -> String {
    let reason = code
        .parse::<u16>()
        .ok()
        .and_then(|c| http::StatusCode::from_u16(c).ok())
        .and_then(|c| c.canonical_reason());
    match reason {
        Some(reason) => format!("{code} {reason}"),
        None => code.to_string(),
    }
}

/// A quoted string, escaped.
fn quote(text: &str) -> String {
    format!("{text:?}")
}

/// An event's fields, in order: text (quoted when printed) or numbers and booleans (bare).
#[derive(Default)]
struct Fields {
    message: String,
    values: Vec<(&'static str, Value)>,
}

enum Value {
    Text(String),
    Bare(String),
}

impl Fields {
    fn take(&mut self, name: &str) -> Option<Value> {
        let at = self.values.iter().position(|(n, _)| *n == name)?;
        Some(self.values.remove(at).1)
    }

    fn take_text(&mut self, name: &str) -> Option<String> {
        self.take(name).map(|v| match v {
            Value::Text(s) | Value::Bare(s) => s,
        })
    }

    /// The fields not taken yet, as ` key=value…`.
    fn rest(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.values {
            let _ = match value {
                Value::Text(s) => write!(out, " {name}={}", quote(s)),
                Value::Bare(s) => write!(out, " {name}={s}"),
            };
        }
        out
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record_text(field, value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_text(field, format!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.values
            .push((field.name(), Value::Bare(value.to_string())));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.values
            .push((field.name(), Value::Bare(value.to_string())));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.values
            .push((field.name(), Value::Bare(value.to_string())));
    }
}

impl Fields {
    fn record_text(&mut self, field: &Field, text: String) {
        if field.name() == "message" {
            self.message = text;
        } else {
            self.values.push((field.name(), Value::Text(text)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(message: &str, values: Vec<(&'static str, Value)>) -> Fields {
        Fields {
            message: message.to_string(),
            values,
        }
    }

    #[test]
    fn round_trips_read_as_kubectls_response_lines() {
        let lines = KlogLines {
            body_limit: Some(1024),
        };
        let ok = fields(
            "response",
            vec![
                ("verb", Value::Text("GET".into())),
                ("url", Value::Text("https://h/api/v1/pods?limit=500".into())),
                ("status", Value::Bare("200".into())),
                ("milliseconds", Value::Bare("5".into())),
            ],
        );
        assert_eq!(
            lines.body(ROUND_TRIP_TARGET, ok),
            r#""Response" verb="GET" url="https://h/api/v1/pods?limit=500" status="200 OK" milliseconds=5"#
        );
        let failed = fields(
            "no response",
            vec![
                ("verb", Value::Text("GET".into())),
                ("url", Value::Text("https://h/version".into())),
                ("error", Value::Text("connection refused".into())),
                ("milliseconds", Value::Bare("0".into())),
            ],
        );
        assert_eq!(
            lines.body(ROUND_TRIP_TARGET, failed),
            r#""Response" verb="GET" url="https://h/version" status="" milliseconds=0 error="connection refused""#
        );
    }

    #[test]
    fn bodies_are_cut_as_kubectl_cuts_them() {
        let body = "é".repeat(600); // 1200 bytes
        let lines = KlogLines {
            body_limit: Some(1024),
        };
        let shown = lines.body(
            BODY_TARGET,
            fields("response body", vec![("body", Value::Text(body.clone()))]),
        );
        assert!(shown.starts_with(r#""Response Body" body="éé"#), "{shown}");
        assert!(shown.ends_with(" [truncated 176 chars]\""), "{shown}");
        let whole = KlogLines { body_limit: None };
        let shown = whole.body(
            BODY_TARGET,
            fields("request body", vec![("body", Value::Text(body.clone()))]),
        );
        assert_eq!(shown, format!("\"Request Body\" body={body:?}"));
    }

    #[test]
    fn verbosity_opens_the_targets_in_kubectls_order() {
        let enabled = |v: u8, target: &str, level: Level| filter(v).would_enable(target, &level);
        assert!(enabled(0, "kubeclient::rest::throttle", Level::WARN));
        assert!(!enabled(0, "kubeclient::rest::throttle", Level::INFO));
        assert!(!enabled(5, ROUND_TRIP_TARGET, Level::DEBUG));
        assert!(enabled(6, ROUND_TRIP_TARGET, Level::DEBUG));
        assert!(!enabled(7, BODY_TARGET, Level::TRACE));
        assert!(enabled(8, BODY_TARGET, Level::TRACE));
        assert!(!enabled(8, "hyper::proto", Level::ERROR));
    }
}
