//! Request parsing that never lets a client mistake become a 5xx: JSON
//! bodies (content type, size, syntax, unknown fields), ids in paths,
//! pagination, and the `If-Match` / `version` precondition.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, Path, Query, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use super::validate::valid_id;

/// The largest accepted body.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// The default and the largest page.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

/// A JSON body of type `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        check_content_type(req.headers())?;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(req.into_body(), BODY_LIMIT)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    too_large()
                } else {
                    ApiError::bad_request("body_unreadable", format!("cannot read the body: {e}"))
                }
            })?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        format!("the body is larger than {BODY_LIMIT} bytes"),
    )
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the body must be JSON (Content-Type: application/json), not {:?}",
                if value.is_empty() { "nothing" } else { value }
            ),
        ))
    }
}

/// Parses a JSON body, telling syntax errors, unknown fields and wrong
/// shapes apart.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                let message = e.to_string();
                if message.starts_with("unknown field") {
                    ApiError::bad_request("unknown_field", message)
                } else {
                    ApiError::bad_request("invalid_body", message)
                }
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
            }
        }
    })
}

/// The id in a path, checked.
pub fn path_id(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(id) = path
        .map_err(|e| ApiError::bad_request("invalid_id", format!("invalid id in the path: {e}")))?;
    if valid_id(&id) {
        Ok(id)
    } else {
        Err(ApiError::bad_request(
            "invalid_id",
            "ids are names: ASCII letters, digits, `_`, `-`, `.` (not first), at most 128",
        ))
    }
}

/// Pagination of the list endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// The `next_token` of the previous page.
    pub next_token: Option<String>,
}

/// A checked page request: the id to continue after and the limit.
pub fn page(
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<(Option<String>, usize), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let after = match q.next_token {
        None => None,
        Some(t) => Some(decode_token(&t).filter(|id| valid_id(id)).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_next_token",
                "next_token is not a token this API returned",
            )
        })?),
    };
    Ok((after, limit))
}

/// Tokens are the last id, hex-encoded with a prefix: opaque to clients.
pub fn encode_token(last: &str) -> String {
    let mut s = String::from("n1");
    for b in last.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn decode_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix("n1")?;
    if hex.len() % 2 != 0 || hex.len() > 2 * 128 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// The expected version: `If-Match: "3"` (or `3`, `W/"3"`) and/or a
/// `version` field; both given must agree.
pub fn expected_version(headers: &HeaderMap, field: Option<u64>) -> Result<Option<u64>, ApiError> {
    let header = match headers.get(header::IF_MATCH) {
        None => None,
        Some(v) => {
            let text = v.to_str().unwrap_or("").trim();
            let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
            Some(text.parse::<u64>().map_err(|_| {
                ApiError::bad_request(
                    "invalid_version",
                    "If-Match must be a version this API returned, such as \"3\"",
                )
            })?)
        }
    };
    match (header, field) {
        (Some(h), Some(f)) if h != f => Err(ApiError::bad_request(
            "invalid_version",
            format!("If-Match ({h}) and the body's version ({f}) disagree"),
        )),
        (h, f) => Ok(h.or(f)),
    }
}
