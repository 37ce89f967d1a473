//! The demo's running commentary: one plain line per step, check and order change.
//!
//! On a terminal the marks are coloured; anywhere else (a pipe, a CI log, a test) the same
//! lines come out without escape codes. `Quiet` prints nothing (the report still has it all).

use std::io::{IsTerminal, Write};

/// Where the commentary goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Colour when stdout is a terminal, plain lines otherwise.
    Auto,
    /// Plain lines on stdout.
    Plain,
    /// Nothing.
    Quiet,
}

/// Prints the commentary.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    enabled: bool,
    colour: bool,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Progress {
    pub fn new(output: Output) -> Self {
        match output {
            Output::Auto => {
                let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                Self { enabled: true, colour }
            }
            Output::Plain => Self { enabled: true, colour: false },
            Output::Quiet => Self { enabled: false, colour: false },
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.colour { format!("{code}{text}{RESET}") } else { text.to_owned() }
    }

    /// Prints one line (or a block) as it is.
    pub fn line(&self, text: &str) {
        if self.enabled {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// A numbered step heading.
    pub fn step(&self, number: usize, title: &str) {
        self.line(&self.paint(BOLD, &format!("\n== {number}. {title}")));
    }

    pub fn ok(&self, text: &str) {
        self.line(&format!("   {} {text}", self.paint(GREEN, "ok  ")));
    }

    pub fn fail(&self, text: &str) {
        self.line(&format!("   {} {text}", self.paint(RED, "FAIL")));
    }

    pub fn warn(&self, text: &str) {
        self.line(&format!("   {} {text}", self.paint(YELLOW, "warn")));
    }

    /// Something the demo did (an action through an API).
    pub fn action(&self, text: &str) {
        self.line(&format!("   -->  {text}"));
    }

    /// An order changed status.
    pub fn order(&self, text: &str) {
        self.line(&self.paint(DIM, &format!("        {text}")));
    }

    /// A heading in the final report.
    pub fn heading(&self, text: &str) -> String {
        self.paint(BOLD, text)
    }
}
