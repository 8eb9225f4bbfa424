//! The symbol index of a project: every place a name or a field is
//! declared or used, with what it refers to.
//!
//! Input: the ASTs of the project's files (recovered where they do not
//! parse) and the model as far as checking got. Output: [`Index`], the
//! occurrences sorted by position.
//! Invariant: names share one namespace (events, nodes, triggers, routes,
//! flows, apps), so a [`Symbol::Name`] is just the name. A field is keyed by
//! the span of its declaration when it has one, so a field copied into a
//! derived event (a counter's default shape) is the same symbol as the
//! field it came from.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::check::model::{object_record, Model, Record, Type};
use crate::source::SourceSet;
use crate::syntax::ast::{self, FileId, Span};

/// What an occurrence refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Symbol {
    /// A top-level name: event, node, trigger, route, flow or app.
    Name(String),
    Field(FieldKey),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FieldKey {
    /// A field with a declaration: in an event, or the mapping entry that
    /// made it.
    Declared(Span),
    /// A field without one (envelope records, built-in shapes, the fields
    /// of `object`).
    Path { event: String, path: Vec<String> },
}

/// What kind of declaration a name is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    Event,
    /// An event that exists because a node emits it.
    DerivedEvent,
    Node,
    Trigger,
    Route,
    Flow,
    App,
}

impl NameKind {
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Event => "event",
            NameKind::DerivedEvent => "derived event",
            NameKind::Node => "node",
            NameKind::Trigger => "trigger",
            NameKind::Route => "route",
            NameKind::Flow => "flow",
            NameKind::App => "app",
        }
    }
}

/// One place a symbol is written.
#[derive(Clone, Debug, PartialEq)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
    /// For fields: the event read and the path up to this segment.
    pub path: Option<(String, Vec<String>)>,
    /// The declaration itself, not a use.
    pub is_def: bool,
}

#[derive(Debug, Default)]
pub struct Index {
    /// Sorted by span (file, then position).
    occurrences: Vec<Occurrence>,
    /// Where each name is declared, and as what.
    definitions: BTreeMap<String, (Span, NameKind)>,
}

impl Index {
    pub fn build(files: &[ast::File], model: &Model, sources: &SourceSet) -> Index {
        let mut builder = Builder {
            model,
            sources,
            index: Index::default(),
        };
        builder.collect_definitions(files);
        for decl in files.iter().flat_map(|f| f.decls.iter()) {
            builder.index_decl(decl);
        }
        let mut index = builder.index;
        index.occurrences.sort_by_key(|o| (o.span, !o.is_def));
        index.occurrences.dedup_by(|a, b| a.span == b.span);
        index
    }

    /// The innermost occurrence at a byte offset (the cursor may also be
    /// right after the last character).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        // Sorted by start; occurrences (names, path segments) never nest.
        let first = self.occurrences.partition_point(|o| o.span.file < file);
        let last = self.occurrences.partition_point(|o| {
            o.span.file < file || (o.span.file == file && o.span.start <= offset)
        });
        self.occurrences[first..last]
            .iter()
            .rev()
            .take(4)
            .filter(|o| o.span.end >= offset)
            .min_by_key(|o| o.span.len())
    }

    /// Every occurrence of a symbol, declarations included, in order.
    pub fn references<'a>(&'a self, symbol: &'a Symbol) -> impl Iterator<Item = &'a Occurrence> {
        self.occurrences.iter().filter(move |o| &o.symbol == symbol)
    }

    /// Every occurrence in one file, in order.
    pub fn in_file(&self, file: FileId) -> impl Iterator<Item = &Occurrence> {
        self.occurrences.iter().filter(move |o| o.span.file == file)
    }

    /// The declaration of a symbol.
    pub fn definition(&self, symbol: &Symbol) -> Option<Span> {
        match symbol {
            Symbol::Name(name) => self.definitions.get(name).map(|(span, _)| *span),
            Symbol::Field(FieldKey::Declared(span)) => Some(*span),
            Symbol::Field(FieldKey::Path { .. }) => {
                self.references(symbol).find(|o| o.is_def).map(|o| o.span)
            }
        }
    }

    pub fn name_kind(&self, name: &str) -> Option<NameKind> {
        self.definitions.get(name).map(|(_, kind)| *kind)
    }

    /// Names by kind, for completion.
    pub fn names(&self) -> impl Iterator<Item = (&str, NameKind)> {
        self.definitions.iter().map(|(n, (_, k))| (n.as_str(), *k))
    }
}

struct Builder<'a> {
    model: &'a Model,
    sources: &'a SourceSet,
    index: Index,
}

/// The events a path may read: the first input by default, any input when
/// the path starts with its name (combiner mappings).
struct Scope<'n> {
    inputs: &'n [ast::Name],
}

impl Builder<'_> {
    fn collect_definitions(&mut self, files: &[ast::File]) {
        let defs = &mut self.index.definitions;
        for decl in files.iter().flat_map(|f| f.decls.iter()) {
            let (name, kind) = match decl {
                ast::Decl::Event(d) => (&d.name, NameKind::Event),
                ast::Decl::Trigger(d) => (&d.name, NameKind::Trigger),
                ast::Decl::Node(d) => (&d.name, NameKind::Node),
                ast::Decl::Route(d) => match &d.name {
                    Some(name) => (name, NameKind::Route),
                    None => continue,
                },
                ast::Decl::Flow(d) => (&d.name, NameKind::Flow),
                ast::Decl::App(d) => (&d.name, NameKind::App),
                ast::Decl::Test(_) => continue,
            };
            defs.entry(name.node.clone()).or_insert((name.span, kind));
        }
        for decl in files.iter().flat_map(|f| f.decls.iter()) {
            let ast::Decl::Node(node) = decl else {
                continue;
            };
            for emit in node.params.iter().filter_map(as_emit) {
                defs.entry(emit.event.node.clone())
                    .or_insert((emit.event.span, NameKind::DerivedEvent));
            }
        }
    }

    fn name(&mut self, name: &ast::Name) {
        let is_def = self
            .index
            .definitions
            .get(&name.node)
            .is_some_and(|(span, _)| *span == name.span);
        self.index.occurrences.push(Occurrence {
            span: name.span,
            symbol: Symbol::Name(name.node.clone()),
            path: None,
            is_def,
        });
    }

    fn index_decl(&mut self, decl: &ast::Decl) {
        match decl {
            ast::Decl::Event(d) => self.index_event(d),
            ast::Decl::Trigger(d) => {
                self.name(&d.name);
                self.name(&d.event);
            }
            ast::Decl::Node(d) => self.index_node(d),
            ast::Decl::Route(d) => {
                if let Some(name) = &d.name {
                    self.name(name);
                }
                self.name(&d.event);
                for target in &d.targets {
                    self.name(target);
                }
                if let Some(when) = &d.when {
                    self.condition(&d.event.node, when);
                }
            }
            ast::Decl::Flow(d) => {
                self.name(&d.name);
                for step in &d.steps {
                    self.name(step);
                }
            }
            ast::Decl::App(d) => self.index_app(d),
            ast::Decl::Test(d) => self.index_test(d),
        }
    }

    fn index_event(&mut self, decl: &ast::EventDecl) {
        self.name(&decl.name);
        for record in &decl.records {
            let path = vec![record.name.node.clone()];
            self.index.occurrences.push(Occurrence {
                span: record.name.span,
                symbol: Symbol::Field(FieldKey::Path {
                    event: decl.name.node.clone(),
                    path: path.clone(),
                }),
                path: Some((decl.name.node.clone(), path.clone())),
                is_def: true,
            });
            self.field_decls(&decl.name.node, &path, &record.ty);
        }
    }

    fn field_decls(&mut self, event: &str, prefix: &[String], record: &ast::RecordType) {
        for field in &record.fields {
            let mut path = prefix.to_vec();
            path.push(field.name.node.clone());
            self.index.occurrences.push(Occurrence {
                span: field.name.span,
                symbol: Symbol::Field(FieldKey::Declared(field.name.span)),
                path: Some((event.to_string(), path.clone())),
                is_def: true,
            });
            let mut ty = &field.ty;
            while let ast::TypeKind::List(inner) = &ty.kind {
                ty = inner;
            }
            if let ast::TypeKind::Record(inner) = &ty.kind {
                self.field_decls(event, &path, inner);
            }
        }
    }

    fn index_node(&mut self, node: &ast::NodeDecl) {
        self.name(&node.name);
        for name in node.inputs.iter().chain(&node.outputs) {
            self.name(name);
        }
        let scope = Scope {
            inputs: &node.inputs,
        };
        for param in &node.params {
            match &param.value {
                ast::ParamValue::Path(path) => self.scoped_path(&scope, path),
                ast::ParamValue::Emit(emit) => {
                    self.name(&emit.event);
                    if let Some(mapping) = &emit.mapping {
                        let prefix = vec!["data".to_string()];
                        self.emit_keys(&emit.event.node, &prefix, mapping);
                        self.mapping_values(&scope, mapping);
                    }
                }
                ast::ParamValue::Mapping(mapping) => self.mapping_values(&scope, mapping),
                ast::ParamValue::String(s) if param.name.node == "prompt" => {
                    if let Some(input) = node.inputs.first() {
                        self.template(&input.node, s.span);
                    }
                }
                _ => {}
            }
        }
    }

    /// The keys of an emit mapping name fields of the emitted event.
    fn emit_keys(&mut self, event: &str, prefix: &[String], mapping: &ast::Mapping) {
        for entry in &mapping.entries {
            let mut path = prefix.to_vec();
            path.push(entry.name.node.clone());
            let key = self
                .field_key(event, &path)
                .unwrap_or(FieldKey::Declared(entry.name.span));
            let is_def = key == FieldKey::Declared(entry.name.span);
            self.index.occurrences.push(Occurrence {
                span: entry.name.span,
                symbol: Symbol::Field(key),
                path: Some((event.to_string(), path.clone())),
                is_def,
            });
            if let ast::MappingExpr::Record(inner) = &entry.value {
                self.emit_keys(event, &path, inner);
            }
        }
    }

    fn mapping_values(&mut self, scope: &Scope<'_>, mapping: &ast::Mapping) {
        for entry in &mapping.entries {
            match &entry.value {
                ast::MappingExpr::Path(path) => self.scoped_path(scope, path),
                ast::MappingExpr::Call {
                    arg: Some(path), ..
                } => self.scoped_path(scope, path),
                ast::MappingExpr::Record(inner) => self.mapping_values(scope, inner),
                _ => {}
            }
        }
    }

    /// A path in a node: into the input it names, or the first input.
    fn scoped_path(&mut self, scope: &Scope<'_>, path: &ast::PathExpr) {
        let Some(first) = path.segments.first() else {
            return;
        };
        if let Some(input) = scope.inputs.iter().find(|i| i.node == first.node) {
            self.name(first);
            self.path(&input.node, &path.segments[1..], 0);
        } else if let Some(input) = scope.inputs.first() {
            self.path(&input.node, &path.segments, 0);
        }
    }

    /// Records the segments of a path read from `event`, from segment
    /// `from` on (the earlier ones are recorded by the caller).
    fn path(&mut self, event: &str, segments: &[ast::Name], from: usize) {
        let Some(first) = segments.first() else {
            return;
        };
        let Some(event_model) = self.model.events.get(event) else {
            return;
        };
        let Some(record) = event_model.schema.record(&first.node) else {
            return;
        };
        let mut path = vec![first.node.clone()];
        if from == 0 {
            self.index.occurrences.push(Occurrence {
                span: first.span,
                symbol: Symbol::Field(FieldKey::Path {
                    event: event.to_string(),
                    path: path.clone(),
                }),
                path: Some((event.to_string(), path.clone())),
                is_def: false,
            });
        }
        let mut current: &Record = record;
        for (i, segment) in segments.iter().enumerate().skip(1) {
            let Some(field) = current.get(&segment.node) else {
                return;
            };
            path.push(segment.node.clone());
            if i >= from {
                let key = match field.span {
                    Some(span) => FieldKey::Declared(span),
                    None => FieldKey::Path {
                        event: event.to_string(),
                        path: path.clone(),
                    },
                };
                self.index.occurrences.push(Occurrence {
                    span: segment.span,
                    symbol: Symbol::Field(key),
                    path: Some((event.to_string(), path.clone())),
                    is_def: false,
                });
            }
            match record_of(field.ty.element()) {
                Some(next) => current = next,
                None => return,
            }
        }
    }

    /// The key of the field at `path` of `event`, when the event has it.
    fn field_key(&self, event: &str, path: &[String]) -> Option<FieldKey> {
        let schema = &self.model.events.get(event)?.schema;
        let mut record = schema.record(path.first()?)?;
        let mut key = None;
        for (i, name) in path.iter().enumerate().skip(1) {
            let field = record.get(name)?;
            key = Some(match field.span {
                Some(span) => FieldKey::Declared(span),
                None => FieldKey::Path {
                    event: event.to_string(),
                    path: path[..=i].to_vec(),
                },
            });
            if i + 1 < path.len() {
                record = record_of(field.ty.element())?;
            }
        }
        key
    }

    fn condition(&mut self, event: &str, condition: &ast::Condition) {
        match condition {
            ast::Condition::Or(parts, _) | ast::Condition::And(parts, _) => {
                for part in parts {
                    self.condition(event, part);
                }
            }
            ast::Condition::Not(inner, _) => self.condition(event, inner),
            ast::Condition::Compare(c) => self.path(event, &c.path.segments, 0),
        }
    }

    /// Variables of a Handlebars template that are paths into `event`,
    /// found in the source text of the string literal.
    fn template(&mut self, event: &str, span: Span) {
        let Some(file) = self.sources.get(span.file) else {
            return;
        };
        let Some(text) = file.text.get(span.range()) else {
            return;
        };
        for (start, path) in template_paths(text) {
            let mut offset = span.start as usize + start;
            let segments: Vec<ast::Name> = path
                .split('.')
                .map(|s| {
                    let name = ast::Name::new(
                        s.to_string(),
                        Span::new(span.file, offset..offset + s.len()),
                    );
                    offset += s.len() + 1;
                    name
                })
                .collect();
            self.path(event, &segments, 0);
        }
    }

    fn index_app(&mut self, app: &ast::AppDecl) {
        self.name(&app.name);
        for name in app.nodes.iter().chain(&app.flows) {
            self.name(name);
        }
        for sink in &app.sinks {
            self.name(&sink.event);
            for param in &sink.params {
                match &param.value {
                    ast::ParamValue::Path(path) => self.path(&sink.event.node, &path.segments, 0),
                    ast::ParamValue::String(s) if sink.kind.node == "s3" => {
                        self.template(&sink.event.node, s.span);
                    }
                    _ => {}
                }
            }
        }
    }

    fn index_test(&mut self, test: &ast::TestDecl) {
        for step in &test.steps {
            match step {
                ast::TestStep::Given { event, value, .. } => {
                    self.name(event);
                    self.value(&event.node, &[], value);
                }
                ast::TestStep::Expect { event, value, .. } => {
                    self.name(event);
                    if let Some(value) = value {
                        self.value(&event.node, &[], value);
                    }
                }
                ast::TestStep::ExpectNone { event, .. } => self.name(event),
                ast::TestStep::ExpectState { node, .. } => self.name(node),
                ast::TestStep::Advance { .. } => {}
            }
        }
    }

    /// The keys of a test value are fields of the event.
    fn value(&mut self, event: &str, prefix: &[ast::Name], value: &ast::Spanned<ast::Value>) {
        match &value.node {
            ast::Value::Object(entries) => {
                for (name, inner) in entries {
                    let mut segments = prefix.to_vec();
                    segments.push(name.clone());
                    self.path(event, &segments, prefix.len());
                    self.value(event, &segments, inner);
                }
            }
            ast::Value::List(items) => {
                for item in items {
                    self.value(event, prefix, item);
                }
            }
            _ => {}
        }
    }
}

/// The record a path continues into (an `object` is a record too),
/// borrowed: walking paths must not copy schemas.
pub fn record_of(ty: &Type) -> Option<&Record> {
    static OBJECT: LazyLock<Record> = LazyLock::new(object_record);
    match ty {
        Type::Record(r) => Some(r),
        Type::Object => Some(&OBJECT),
        _ => None,
    }
}

fn as_emit(param: &ast::Param) -> Option<&ast::Emit> {
    match &param.value {
        ast::ParamValue::Emit(emit) => Some(emit),
        _ => None,
    }
}

/// The paths in the `{{…}}` blocks of a template's source text that start
/// at an envelope record, with their byte offsets in `text`.
pub fn template_paths(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest_from = 0;
    while let Some(open) = text[rest_from..].find("{{") {
        let open = rest_from + open;
        let escaped = text[..open].ends_with('\\');
        let Some(close) = text[open + 2..].find("}}") else {
            break;
        };
        let inner_start = open + 2;
        let inner = &text[inner_start..inner_start + close];
        rest_from = inner_start + close + 2;
        if escaped {
            continue;
        }
        let mut i = 0;
        let bytes = inner.as_bytes();
        while i < bytes.len() {
            if is_ident(bytes[i]) && (i == 0 || !is_path_char(bytes[i - 1])) {
                let start = i;
                while i < bytes.len() && is_path_char(bytes[i]) {
                    i += 1;
                }
                let path = inner[start..i].trim_end_matches('.');
                let first = path.split('.').next().unwrap_or("");
                if crate::check::model::ENVELOPE.contains(&first) {
                    out.push((inner_start + start, path));
                }
            } else {
                i += 1;
            }
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_path_char(b: u8) -> bool {
    is_ident(b) || b == b'.' || b == b'@' || b == b'/'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_paths_start_at_records() {
        let text = r#""{{profile.user_id}}/{{#if data.x}}{{this}}{{/if}} \{{data.no}}""#;
        let found: Vec<&str> = template_paths(text).into_iter().map(|(_, p)| p).collect();
        assert_eq!(found, ["profile.user_id", "data.x"]);
        let (at, path) = template_paths(text)[0];
        assert_eq!(&text[at..at + path.len()], "profile.user_id");
    }
}
