//! A problem found in the writer's content, located by file, line and column.
//!
//! Every layer reports problems as `Diagnostic`s instead of aborting, so that
//! one run of `check` or `build` lists all of them (like ripgrep's
//! `Error::Partial`). Messages are written for writers, not programmers.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is: errors fail the build, warnings only inform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one file. `line` and `column` are 1-based and count from
/// the top of the file (not of its front-matter block).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub severity: Severity,
    pub message: String,
}

impl Diagnostic {
    pub fn error(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path, message)
    }

    pub fn warning(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path, message)
    }

    fn new(severity: Severity, path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.as_ref().to_path_buf(),
            line: None,
            column: None,
            severity,
            message: message.into(),
        }
    }

    /// Attaches a position; `None` leaves the diagnostic file-level.
    pub fn at(mut self, line: Option<u32>, column: Option<u32>) -> Self {
        self.line = line;
        self.column = column.filter(|_| line.is_some());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `content/s1/010.md:3:7: error: ...`, the form editors and terminals
    /// turn into clickable locations.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {level}: {}", self.message)
    }
}

/// The 1-based line holding byte `offset` of `text`.
pub fn line_of_offset(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    let newlines = text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

/// The 1-based column (in characters) of byte `offset` of `text`.
pub fn column_of_offset(text: &str, offset: usize) -> u32 {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    u32::try_from(text[line_start..end].chars().count() + 1).unwrap_or(u32::MAX)
}
/// Logs each problem of a long-running server once, when it appears, and
/// says when a file's errors are fixed.
#[derive(Default)]
pub struct ProblemLog {
    reported: BTreeSet<Diagnostic>,
}

impl ProblemLog {
    /// Problems already known (the first build logged them itself).
    pub fn known(diagnostics: &[Diagnostic]) -> Self {
        ProblemLog { reported: diagnostics.iter().cloned().collect() }
    }

    /// Logs what is new in `diagnostics` and which files were fixed.
    pub fn update(&mut self, diagnostics: &[Diagnostic]) {
        let now: BTreeSet<Diagnostic> = diagnostics.iter().cloned().collect();
        for new in now.difference(&self.reported) {
            tracing::warn!("{new}");
        }
        let fixed: BTreeSet<&PathBuf> =
            self.reported.difference(&now).filter(|d| d.is_error()).map(|d| &d.path).collect();
        for path in fixed {
            tracing::info!(file = %path.display(), "fixed");
        }
        self.reported = now;
    }
}
