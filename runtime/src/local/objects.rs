//! Objects in a directory: `s3://bucket/key` is the file `ROOT/bucket/key`.

use std::path::{Component, Path, PathBuf};

use crate::engine::ObjectRef;
use crate::ports::ObjectStore;

pub struct DirObjects {
    root: PathBuf,
}

impl DirObjects {
    pub fn new(root: impl Into<PathBuf>) -> DirObjects {
        DirObjects { root: root.into() }
    }

    /// The file of an object; keys that would leave the root are refused.
    fn path(&self, object: &ObjectRef) -> Result<PathBuf, String> {
        let rel = Path::new(&object.bucket).join(&object.key);
        if object.bucket.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(format!("{object}: not a safe local object path"));
        }
        Ok(self.root.join(rel))
    }
}

impl ObjectStore for DirObjects {
    fn get(&mut self, object: &ObjectRef) -> Result<Option<Vec<u8>>, String> {
        match std::fs::read(self.path(object)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{object}: {e}")),
        }
    }

    fn put(&mut self, object: &ObjectRef, bytes: &[u8]) -> Result<(), String> {
        let path = self.path(object)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{object}: {e}"))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{object}: {e}"))
    }
}
