//! Errors of the use cases, each with a stable code the API returns and translations key on.

use lizhi_docs::TableError;
use lizhi_store::StoreError;

/// Why a use case refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid session or token.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the role or scope does not allow it.
    #[error("not allowed")]
    Forbidden,
    /// Nothing with that key (or not visible to the caller, which looks the same on purpose).
    #[error("not found")]
    NotFound,
    /// Wrong username or password.
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failed sign-ins; try again later.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the window frees up.
        retry_after_secs: u64,
    },
    /// A field of a form or request body is invalid.
    #[error("invalid {field}: {code}")]
    Invalid {
        /// The field name.
        field: String,
        /// The field error code.
        code: &'static str,
    },
    /// A record failed the same checks an import applies (field, code, value per problem).
    #[error("rejected: {} problem(s)", .0.len())]
    Rejected(Vec<crate::import::RowError>),
    /// Something with that key exists already.
    #[error("already exists: {0}")]
    Conflict(String),
    /// An upload is larger than allowed.
    #[error("file larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
    /// The uploaded file could not be read as a table.
    #[error("file rejected: {0}")]
    Table(#[from] TableError),
    /// The database failed.
    #[error(transparent)]
    Store(StoreError),
    /// A case action the rules refuse (a skipped step, a timer still running…).
    #[error("case: {0}")]
    Case(lizhi_core::case::process::CaseError),
    /// An approval decision the chain refuses.
    #[error("approval: {0}")]
    Approval(lizhi_core::case::approval::ApprovalError),
    /// A letter could not be made (a field missing, a template refused, no CJK font on the server).
    #[error("letter: {0}")]
    Letter(lizhi_docs::letters::LetterError),
    /// The audit log cannot be signed, timestamped or proven.
    #[error("audit log: {0}")]
    Log(#[from] crate::audit_log::LogError),
    /// A bug or an impossible state (e.g. a value that cannot be serialised); never the caller's fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::BadCredentials => "bad_credentials",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Invalid { .. } | AppError::Rejected(_) => "invalid_input",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge { .. } => "file_too_large",
            AppError::Table(t) => t.code(),
            AppError::Store(s) => s.code(),
            AppError::Case(e) => e.code(),
            AppError::Approval(e) => e.code(),
            AppError::Letter(e) => e.code(),
            AppError::Log(e) => e.code(),
            AppError::Internal(_) => "internal_error",
        }
    }

    /// Shorthand for a field error.
    pub fn invalid(field: &str, code: &'static str) -> AppError {
        AppError::Invalid { field: field.to_owned(), code }
    }
}
