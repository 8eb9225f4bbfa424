//! Webhook signing secrets from Secrets Manager, read once per cold start.
//!
//! The template creates one generated secret per `secret "name"` of a
//! webhook sink, named `<project>/<stage>/<name>` (characters Secrets
//! Manager does not allow become `-`), and passes `<project>/<stage>/` to
//! the sink function as `FLOW_SECRET_PREFIX`; the function may read exactly
//! those secrets. A rotated secret is picked up by new execution
//! environments.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::error::FlowError;

pub struct Secrets {
    client: aws_sdk_secretsmanager::Client,
    prefix: String,
    cache: Mutex<HashMap<String, Arc<Vec<u8>>>>,
}

impl Secrets {
    pub fn new(client: aws_sdk_secretsmanager::Client, prefix: impl Into<String>) -> Secrets {
        Secrets {
            client,
            prefix: prefix.into(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The secret id of `name`, as the template names it.
    pub fn secret_id(&self, name: &str) -> String {
        format!("{}{}", self.prefix, secret_name(name))
    }

    /// The value of the secret `name` (cached after the first read).
    pub async fn get(&self, name: &str) -> Result<Arc<Vec<u8>>, FlowError> {
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(name).cloned()) {
            return Ok(v);
        }
        let id = self.secret_id(name);
        let out = self
            .client
            .get_secret_value()
            .secret_id(&id)
            .send()
            .await
            .map_err(|e| {
                FlowError::retryable(format!(
                    "Secrets Manager GetSecretValue {id}: {}",
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e)
                ))
            })?;
        let value = match (out.secret_string(), out.secret_binary()) {
            (Some(s), _) => s.as_bytes().to_vec(),
            (None, Some(b)) => b.as_ref().to_vec(),
            (None, None) => {
                return Err(FlowError::failed(format!("the secret {id} has no value")));
            }
        };
        let value = Arc::new(value);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name.to_string(), value.clone());
        }
        Ok(value)
    }
}

/// Secrets Manager names allow letters, digits and `/_+=.@-`.
pub fn secret_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "/_+=.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::secret_name;

    #[test]
    fn names_as_the_template_writes_them() {
        assert_eq!(
            secret_name("coach-webhook-signing-key"),
            "coach-webhook-signing-key"
        );
        assert_eq!(secret_name("a b:c"), "a-b-c");
    }
}
