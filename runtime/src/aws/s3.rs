//! The object port on S3: `GetObject` (a missing key is `None`) and
//! `PutObject`.

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::bridge::Bridge;
use crate::engine::ObjectRef;
use crate::ports::ObjectStore;

pub struct S3Objects {
    client: Client,
    bridge: Bridge,
}

impl S3Objects {
    pub fn new(client: Client, bridge: Bridge) -> S3Objects {
        S3Objects { client, bridge }
    }
}

impl ObjectStore for S3Objects {
    fn get(&mut self, object: &ObjectRef) -> Result<Option<Vec<u8>>, String> {
        let client = &self.client;
        self.bridge.run(async {
            let out = client
                .get_object()
                .bucket(&object.bucket)
                .key(&object.key)
                .send()
                .await;
            match out {
                Ok(o) => o
                    .body
                    .collect()
                    .await
                    .map(|b| Some(b.into_bytes().to_vec()))
                    .map_err(|e| format!("S3 GetObject {object}: {e}")),
                Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => Ok(None),
                Err(e) => Err(format!("S3 GetObject {object}: {}", DisplayErrorContext(e))),
            }
        })
    }

    fn put(&mut self, object: &ObjectRef, bytes: &[u8]) -> Result<(), String> {
        let request = self
            .client
            .put_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .body(ByteStream::from(bytes.to_vec()))
            .send();
        self.bridge
            .run(request)
            .map(drop)
            .map_err(|e| format!("S3 PutObject {object}: {}", DisplayErrorContext(e)))
    }
}
