//! Validation errors: each names the field and a typed reason, so that REST and GraphQL can
//! report "field `email`: is not a valid e-mail address" without parsing strings.

use std::fmt;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Empty,
    TooLong {
        max: usize,
    },
    OutOfRange {
        min: i64,
        max: i64,
    },
    Negative,
    Malformed {
        expected: &'static str,
    },
    UnknownValue {
        allowed: &'static [&'static str],
    },
    EndBeforeStart,
    Missing,
    Duplicate,
    /// A rule between several values, explained in words.
    Rule(&'static str),
    /// A status change that no path of the status machine makes; `next` are the statuses
    /// one transition away from `from` (none: `from` is final).
    StatusMove {
        from: &'static str,
        to: &'static str,
        next: Vec<&'static str>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Empty => f.write_str("must not be empty"),
            Reason::TooLong { max } => write!(f, "must be at most {max} characters"),
            Reason::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Reason::Negative => f.write_str("must not be negative"),
            Reason::Malformed { expected } => write!(f, "is not {expected}"),
            Reason::UnknownValue { allowed } => {
                write!(f, "is not one of: {}", allowed.join(", "))
            }
            Reason::EndBeforeStart => f.write_str("must not be before the start"),
            Reason::Missing => f.write_str("is required"),
            Reason::Duplicate => f.write_str("contains a duplicate"),
            Reason::Rule(text) => f.write_str(text),
            Reason::StatusMove { from, to, next } if next.is_empty() => {
                write!(f, "cannot move from `{from}` to `{to}`: `{from}` is final")
            }
            Reason::StatusMove { from, to, next } => write!(
                f,
                "cannot move from `{from}` to `{to}`; from `{from}` a transition leads to `{}`",
                next.join("` or `")
            ),
        }
    }
}

/// One refused field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct ValidationError {
    pub field: String,
    pub reason: Reason,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, reason: Reason) -> Self {
        Self {
            field: field.into(),
            reason,
        }
    }
}

/// All refused fields of one input, in the order they were checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl ValidationErrors {
    /// Whether some error names `field`.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    pub fn reason(&self, field: &str) -> Option<&Reason> {
        self.0.iter().find(|e| e.field == field).map(|e| &e.reason)
    }

    pub fn single(field: impl Into<String>, reason: Reason) -> Self {
        Self(vec![ValidationError::new(field, reason)])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

impl From<ValidationError> for ValidationErrors {
    fn from(e: ValidationError) -> Self {
        Self(vec![e])
    }
}

/// Collects the errors of several fields, so a caller learns every problem at once.
#[derive(Debug, Default)]
pub struct Collector {
    errors: Vec<ValidationError>,
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the error under `field` and returns `None`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Reason>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(reason) => {
                self.errors.push(ValidationError::new(field, reason));
                None
            }
        }
    }

    /// Like `check`, for an optional raw value: `None` stays `None`.
    pub fn check_opt<R, T>(
        &mut self,
        field: &str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, Reason>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(r) => self.check(field, parse(r)).map(Some),
        }
    }

    pub fn push(&mut self, field: &str, reason: Reason) {
        self.errors.push(ValidationError::new(field, reason));
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ends the collection: the value built by `build` if no field failed.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ValidationErrors> {
        if self.errors.is_empty() {
            // `build` only returns None when a check failed, and then errors is not empty.
            build().ok_or_else(|| ValidationErrors::single("input", Reason::Missing))
        } else {
            Err(ValidationErrors(self.errors))
        }
    }
}
