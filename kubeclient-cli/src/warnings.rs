//! Server warnings on stderr, as kubectl prints them: `Warning: <text>`, each distinct text
//! once per invocation (client-go's `WarningWriter` with `Deduplicate`, which kubectl
//! installs), with `Warning:` in bold yellow when stderr is a terminal that allows colour
//! (kubectl's `AllowsColorOutput`: a terminal, `TERM` not `dumb`, `NO_COLOR` unset). Empty
//! texts are skipped, as client-go does; control characters in a text are shown escaped, so
//! a server cannot drive the terminal.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};

use kubeclient::rest::WarningHandler;

/// client-go's colour codes around `Warning:`.
const YELLOW: &str = "\u{1b}[33;1m";
const RESET: &str = "\u{1b}[0m";

/// Prints each distinct warning once.
pub struct WarningPrinter {
    color: bool,
    state: Mutex<Printed>,
}

struct Printed {
    seen: HashSet<String>,
    out: Box<dyn Write + Send>,
}

impl std::fmt::Debug for WarningPrinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarningPrinter")
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl WarningPrinter {
    /// A printer writing to `out`.
    fn new(out: Box<dyn Write + Send>, color: bool) -> Self {
        WarningPrinter {
            color,
            state: Mutex::new(Printed {
                seen: HashSet::new(),
                out,
            }),
        }
    }
}

impl WarningHandler for WarningPrinter {
    fn handle_warning(&self, message: &str) {
        if message.is_empty() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !state.seen.insert(message.to_string()) {
            return;
        }
        let text: String = message
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect();
        let line = if self.color {
            format!("{YELLOW}Warning:{RESET} {text}\n")
        } else {
            format!("Warning: {text}\n")
        };
        let _ = state.out.write_all(line.as_bytes());
        let _ = state.out.flush();
    }
}

/// The one printer of this process, on stderr: every client of an invocation shares it, so a
/// warning is printed once however many requests bring it.
pub fn stderr_printer() -> Arc<WarningPrinter> {
    static PRINTER: OnceLock<Arc<WarningPrinter>> = OnceLock::new();
    PRINTER
        .get_or_init(|| {
            let stderr = std::io::stderr();
            let color = stderr.is_terminal()
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
                && std::env::var_os("NO_COLOR").is_none();
            Arc::new(WarningPrinter::new(Box::new(stderr), color))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose bytes the test can read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default())
                .into_owned()
        }
    }

    #[test]
    fn each_distinct_warning_is_printed_once() {
        let out = Captured::default();
        let printer = WarningPrinter::new(Box::new(out.clone()), false);
        for message in [
            "a is deprecated",
            "",
            "unknown field \"x\"",
            "a is deprecated",
        ] {
            printer.handle_warning(message);
        }
        assert_eq!(
            out.text(),
            "Warning: a is deprecated\nWarning: unknown field \"x\"\n"
        );
    }

    #[test]
    fn colour_marks_the_prefix_and_control_characters_are_escaped() {
        let out = Captured::default();
        let printer = WarningPrinter::new(Box::new(out.clone()), true);
        printer.handle_warning("x\u{1b}[2Jy");
        assert_eq!(out.text(), "\u{1b}[33;1mWarning:\u{1b}[0m x\\u{1b}[2Jy\n");
    }
}
