//! `flowc lsp`: the language server, over stdio, on tower-lsp-server.
//!
//! Input: LSP messages. Output: diagnostics (exactly those of `flowc
//! check`) published for every file of the project of each open document,
//! on open and (debounced) on every change, and answers to hover,
//! definition, references, completion, document symbols, rename and
//! formatting. All language knowledge is in [`crate::analysis`]; this
//! module converts positions, keeps the documents and reads the disk.
//! Invariant: no request panics the server: analysis runs under
//! `catch_unwind` and a failure is logged and answered with nothing.
//! Built only with the `lsp` cargo feature (on by default).

mod convert;
pub mod state;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use state::{project_root, Snapshot, State};

/// How long typing must pause before a project is checked again.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Serves the protocol on stdin/stdout until the client exits.
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (service, socket) = LspService::new(Backend::new);
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    Ok(())
}

/// The server: the client handle and the shared state.
#[derive(Debug)]
pub struct Backend {
    client: Client,
    state: State,
    /// The client lets the server watch `.flow` files on disk.
    watch_files: AtomicBool,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Backend {
            client,
            state: State::default(),
            watch_files: AtomicBool::new(false),
        }
    }

    /// The current analysis of the project of `root`, computed off the
    /// async workers; `None` if the analysis panicked.
    async fn snapshot(&self, root: PathBuf) -> Option<Arc<Snapshot>> {
        let state = self.state.clone();
        let job = tokio::task::spawn_blocking(move || guarded(|| state.snapshot(&root)));
        match job.await {
            Ok(Some(snapshot)) => Some(snapshot),
            _ => {
                self.client
                    .log_message(lsp::MessageType::ERROR, "flowc: analysis failed (a bug)")
                    .await;
                None
            }
        }
    }

    /// The analysis, file and byte offset of a document position.
    async fn locate(
        &self,
        uri: &lsp::Uri,
        position: lsp::Position,
    ) -> Option<(Arc<Snapshot>, crate::syntax::span::FileId, usize)> {
        let path = convert::path(uri)?;
        let snapshot = self.snapshot(project_root(&path)).await?;
        let file = snapshot.file_id(&path)?;
        let offset = convert::offset(&snapshot, file, position);
        Some((snapshot, file, offset))
    }

    /// Checks the project of `root` and publishes its diagnostics, clearing
    /// those of files that became clean.
    async fn publish(&self, root: PathBuf) {
        let Some(snapshot) = self.snapshot(root.clone()).await else {
            return;
        };
        let Some(mut by_file) = guarded(|| convert::diagnostics(&snapshot)) else {
            return;
        };
        let now: BTreeSet<PathBuf> = by_file.keys().cloned().collect();
        let cleared = self.state.replace_published(&root, now);
        for path in cleared {
            by_file.entry(path).or_default();
        }
        for path in &snapshot.paths {
            if self.state.document(path).is_some() {
                by_file.entry(path.clone()).or_default();
            }
        }
        for (path, diagnostics) in by_file {
            if let Some(uri) = convert::uri(&path) {
                self.client
                    .publish_diagnostics(uri, diagnostics, None)
                    .await;
            }
        }
    }

    /// Publishes after [`DEBOUNCE`] unless the project changed again.
    fn publish_later(&self, root: PathBuf, generation: u64) {
        let client = self.client.clone();
        let state = self.state.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if state.generation(&root) == generation {
                let backend = Backend {
                    client,
                    state,
                    watch_files: AtomicBool::new(false),
                };
                backend.publish(root).await;
            }
        });
    }
}

/// Runs `f`, turning a panic into `None` (the panic message goes to
/// stderr through the default hook, never to the protocol's stdout).
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..lsp::TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp::WorkDoneProgressOptions::default(),
        })),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".into(), "=".into(), "(".into()]),
            ..lsp::CompletionOptions::default()
        }),
        ..lsp::ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let watch = params
            .capabilities
            .workspace
            .and_then(|w| w.did_change_watched_files)
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.watch_files.store(watch, Ordering::Relaxed);
        Ok(lsp::InitializeResult {
            capabilities: capabilities(),
            server_info: Some(lsp::ServerInfo {
                name: "flowc".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    /// Asks to hear about `.flow` files created, changed or deleted on
    /// disk (a branch switch, a file added in a terminal).
    async fn initialized(&self, _: lsp::InitializedParams) {
        if !self.watch_files.load(Ordering::Relaxed) {
            return;
        }
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String("**/*.flow".to_string()),
                kind: None,
            }],
        };
        let registration = lsp::Registration {
            id: "flowc-watch-flow-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(err) = self.client.register_capability(vec![registration]).await {
            self.client
                .log_message(
                    lsp::MessageType::WARNING,
                    format!("flowc: cannot watch files: {err}"),
                )
                .await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let Some(path) = convert::path(&params.text_document.uri) else {
            return;
        };
        self.state.set_document(&path, params.text_document.text);
        self.publish(project_root(&path)).await;
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        let Some(path) = convert::path(&params.text_document.uri) else {
            return;
        };
        // Full synchronisation: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        let generation = self.state.set_document(&path, change.text);
        self.publish_later(project_root(&path), generation);
    }

    async fn did_save(&self, params: lsp::DidSaveTextDocumentParams) {
        if let Some(path) = convert::path(&params.text_document.uri) {
            let root = project_root(&path);
            let generation = self.state.touch(&root);
            self.publish_later(root, generation);
        }
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        if let Some(path) = convert::path(&params.text_document.uri) {
            let generation = self.state.close_document(&path);
            self.publish_later(project_root(&path), generation);
        }
    }

    async fn did_change_watched_files(&self, params: lsp::DidChangeWatchedFilesParams) {
        let roots: BTreeSet<PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| convert::path(&c.uri))
            .map(|p| project_root(&p))
            .collect();
        for root in roots {
            let generation = self.state.touch(&root);
            self.publish_later(root, generation);
        }
    }

    async fn hover(&self, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
        let at = params.text_document_position_params;
        let Some((snapshot, file, offset)) = self.locate(&at.text_document.uri, at.position).await
        else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let hover = snapshot.analysis.hover(file, offset)?;
            Some(lsp::Hover {
                contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: hover.markdown,
                }),
                range: Some(convert::range(&snapshot, hover.span)),
            })
        })
        .flatten())
    }

    async fn goto_definition(
        &self,
        params: lsp::GotoDefinitionParams,
    ) -> Result<Option<lsp::GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let Some((snapshot, file, offset)) = self.locate(&at.text_document.uri, at.position).await
        else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let span = snapshot.analysis.definition(file, offset)?;
            convert::location(&snapshot, span).map(lsp::GotoDefinitionResponse::Scalar)
        })
        .flatten())
    }

    async fn references(&self, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
        let at = params.text_document_position;
        let Some((snapshot, file, offset)) = self.locate(&at.text_document.uri, at.position).await
        else {
            return Ok(None);
        };
        let with_declaration = params.context.include_declaration;
        Ok(guarded(|| {
            snapshot
                .analysis
                .references(file, offset, with_declaration)
                .into_iter()
                .filter_map(|span| convert::location(&snapshot, span))
                .collect()
        }))
    }

    async fn completion(
        &self,
        params: lsp::CompletionParams,
    ) -> Result<Option<lsp::CompletionResponse>> {
        let at = params.text_document_position;
        let Some((snapshot, file, offset)) = self.locate(&at.text_document.uri, at.position).await
        else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let items = snapshot.analysis.completions(file, offset);
            lsp::CompletionResponse::Array(items.iter().map(convert::completion).collect())
        }))
    }

    async fn document_symbol(
        &self,
        params: lsp::DocumentSymbolParams,
    ) -> Result<Option<lsp::DocumentSymbolResponse>> {
        let Some(path) = convert::path(&params.text_document.uri) else {
            return Ok(None);
        };
        let Some(snapshot) = self.snapshot(project_root(&path)).await else {
            return Ok(None);
        };
        let Some(file) = snapshot.file_id(&path) else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let symbols = snapshot.analysis.document_symbols(file);
            lsp::DocumentSymbolResponse::Nested(
                symbols
                    .iter()
                    .map(|s| convert::document_symbol(&snapshot, s))
                    .collect(),
            )
        }))
    }

    async fn prepare_rename(
        &self,
        params: lsp::TextDocumentPositionParams,
    ) -> Result<Option<lsp::PrepareRenameResponse>> {
        let Some((snapshot, file, offset)) = self
            .locate(&params.text_document.uri, params.position)
            .await
        else {
            return Ok(None);
        };
        Ok(guarded(|| {
            let (span, name) = snapshot.analysis.prepare_rename(file, offset)?;
            Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
                range: convert::range(&snapshot, span),
                placeholder: name,
            })
        })
        .flatten())
    }

    async fn rename(&self, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
        let at = params.text_document_position;
        let Some((snapshot, file, offset)) = self.locate(&at.text_document.uri, at.position).await
        else {
            return Ok(None);
        };
        match guarded(|| snapshot.analysis.rename(file, offset, &params.new_name)) {
            Some(Ok(edits)) => Ok(Some(convert::workspace_edit(&snapshot, &edits))),
            Some(Err(message)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(message)),
            None => Ok(None),
        }
    }

    async fn formatting(
        &self,
        params: lsp::DocumentFormattingParams,
    ) -> Result<Option<Vec<lsp::TextEdit>>> {
        let Some(path) = convert::path(&params.text_document.uri) else {
            return Ok(None);
        };
        let Some(text) = self.state.document(&path) else {
            return Ok(None);
        };
        Ok(guarded(|| format_edits(&text)).flatten())
    }
}

/// One edit replacing the whole document with its formatted text; none
/// when it is already formatted or does not parse.
fn format_edits(text: &str) -> Option<Vec<lsp::TextEdit>> {
    let formatted = crate::format::format_source(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let index = crate::analysis::LineIndex::new(text);
    let end = index.position(text, text.len());
    let range = lsp::Range::new(
        lsp::Position::new(0, 0),
        lsp::Position::new(end.line, end.character),
    );
    Some(vec![lsp::TextEdit::new(range, formatted)])
}

/// The root of the project a path belongs to (for callers outside).
pub fn root_of(path: &Path) -> PathBuf {
    project_root(path)
}
