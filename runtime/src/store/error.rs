//! The API's errors: one JSON shape, a stable code per kind of mistake.
//!
//! Every client mistake is a 4xx with `{"error": {"code", "message",
//! "diagnostics"?}}`; the codes are listed in docs/event-store.md and never
//! change meaning. Server-side failures (the repository or the live bus)
//! are 5xx with codes of their own, so a client can tell them apart.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::repo::RepoError;

/// One finding of a validation, with the compiler's diagnostic code where
/// the compiler has one (`E012`, `E036`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    pub code: String,
    pub message: String,
}

impl Problem {
    pub fn new(code: &str, message: impl Into<String>) -> Problem {
        Problem {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`malformed_json`, `version_conflict`, …).
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// Findings with compiler diagnostic codes (invalid flows and routes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Problem>,
    /// The current version, on a version conflict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<u64>,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: ErrorDetail,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code,
                message: message.into(),
                diagnostics: Vec::new(),
                current_version: None,
            },
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A validation failure with diagnostics (422).
    pub fn invalid(
        code: &'static str,
        message: impl Into<String>,
        found: Vec<Problem>,
    ) -> ApiError {
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
        e.detail.diagnostics = found;
        e
    }

    pub fn conflict(current: u64, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::CONFLICT, "version_conflict", message);
        e.detail.current_version = Some(current);
        e
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token (Authorization: Bearer $FLOWC_TOKEN)",
        )
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Conflict { current } => ApiError::conflict(
                current,
                format!("the record changed concurrently; it is now at version {current}: read it again and retry"),
            ),
            RepoError::Backend(m) => {
                tracing::error!(error = %m, "repository failure");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store could not be reached; retry later",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let body = serde_json::to_vec(&ErrorBody { error: self.detail }).unwrap_or_default();
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"flowc\""),
            );
        }
        response
    }
}
