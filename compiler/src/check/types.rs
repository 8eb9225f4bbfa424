//! Types: lowering written types to [`Type`], building event schemas, and
//! resolving field paths against a schema.
//! Invariant: every path the checker accepts names a field that exists in
//! the schema it was resolved against.

use super::model::{Field, Record, Schema, Type, ENVELOPE};
use super::Ctx;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::syntax::ast;

pub const SCALAR_TYPES: [&str; 7] = [
    "string",
    "int",
    "float",
    "bool",
    "timestamp",
    "duration",
    "object",
];

impl Ctx<'_> {
    /// Builds the schema of a declared event (E017, E018, E019).
    pub(super) fn lower_event_schema(&mut self, decl: &ast::EventDecl) -> Schema {
        let mut schema = Schema::default();
        let mut seen: Vec<&ast::Name> = Vec::new();
        for record in &decl.records {
            let name = &record.name;
            if !ENVELOPE.contains(&name.node.as_str()) {
                let d = Diagnostic::new(
                    Code::UnknownRecord,
                    format!("`{}` is not an envelope record", name.node),
                )
                .primary(
                    name.span,
                    "events hold only `profile`, `data` and `application`",
                )
                .help(match did_you_mean(&name.node, ENVELOPE) {
                    Some(dym) => dym,
                    None => "put custom fields inside `data { … }`".to_string(),
                });
                self.push(d);
                continue;
            }
            if let Some(first) = seen.iter().find(|n| n.node == name.node) {
                let d = Diagnostic::new(
                    Code::DuplicateEntry,
                    format!(
                        "record `{}` is declared twice in event `{}`",
                        name.node, decl.name.node
                    ),
                )
                .primary(name.span, "declared again here")
                .secondary(first.span, "first declared here")
                .help("merge the two records into one");
                self.push(d);
                continue;
            }
            seen.push(name);
            let lowered = self.lower_record(&record.ty);
            if let Some(slot) = schema.record_mut(&name.node) {
                *slot = lowered;
            }
        }
        schema
    }

    pub(super) fn lower_record(&mut self, record: &ast::RecordType) -> Record {
        let mut out = Record::default();
        for field in &record.fields {
            if let Some(first) = out.get(&field.name.node).and_then(|f| f.span) {
                let d = Diagnostic::new(
                    Code::DuplicateEntry,
                    format!("field `{}` is declared twice", field.name.node),
                )
                .primary(field.name.span, "declared again here")
                .secondary(first, "first declared here")
                .help("remove one of the two declarations or rename it");
                self.push(d);
                continue;
            }
            let ty = self.lower_type(&field.ty);
            out.fields.push(Field {
                name: field.name.node.clone(),
                ty,
                optional: field.ty.optional,
                span: Some(field.name.span),
            });
        }
        out
    }

    fn lower_type(&mut self, ty: &ast::TypeExpr) -> Type {
        match &ty.kind {
            ast::TypeKind::Named(name) => match name.node.as_str() {
                "string" => Type::String,
                "int" => Type::Int,
                "float" => Type::Float,
                "bool" => Type::Bool,
                "timestamp" => Type::Timestamp,
                "duration" => Type::Duration,
                "object" => Type::Object,
                other => {
                    let help = did_you_mean(other, SCALAR_TYPES).unwrap_or_else(|| {
                        "field types are string, int, float, bool, timestamp, duration, object, \
                         list<T>, records { … } and unions \"a\" | \"b\""
                            .to_string()
                    });
                    let d = Diagnostic::new(Code::UnknownType, format!("unknown type `{other}`"))
                        .primary(name.span, "not a type")
                        .help(help);
                    self.push(d);
                    Type::String
                }
            },
            ast::TypeKind::List(inner) => {
                if inner.optional {
                    let d = Diagnostic::new(Code::UnknownType, "list elements cannot be optional")
                        .primary(inner.span, "optional element type")
                        .help("make the list itself optional: `list<T>?`");
                    self.push(d);
                }
                Type::List(Box::new(self.lower_type(inner)))
            }
            ast::TypeKind::Record(record) => Type::Record(self.lower_record(record)),
            ast::TypeKind::Union(members) => {
                let mut values: Vec<String> = Vec::new();
                for m in members {
                    if values.contains(&m.node) {
                        let d = Diagnostic::new(
                            Code::DuplicateEntry,
                            format!("union member \"{}\" is listed twice", m.node),
                        )
                        .primary(m.span, "repeated here")
                        .help("remove the repeated member");
                        self.push(d);
                    } else {
                        values.push(m.node.clone());
                    }
                }
                Type::Union(values)
            }
        }
    }
}

/// A path resolved against a schema.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub ty: Type,
    /// Some segment of the path is optional, so the value may be absent.
    pub optional: bool,
    /// The path goes through a list (EventBridge then matches any element).
    pub through_list: bool,
}

/// Resolves `segments` (e.g. `data.image.key`) in `schema` of event `event`.
/// On failure returns the E013 diagnostic, pointing at the first unknown
/// segment.
pub fn resolve_path(
    schema: &Schema,
    event: &str,
    segments: &[ast::Name],
) -> Result<Resolved, Diagnostic> {
    let Some(first) = segments.first() else {
        return Err(Diagnostic::new(Code::UnknownField, "empty field path"));
    };
    let Some(record) = schema.record(&first.node) else {
        return Err(Diagnostic::new(
            Code::UnknownField,
            format!("`{}` is not an envelope record of `{event}`", first.node),
        )
        .primary(
            first.span,
            "paths start with `profile`, `data` or `application`",
        )
        .help(first_segment_help(schema, segments)));
    };
    if segments.len() == 1 {
        return Ok(Resolved {
            ty: Type::Record(record.clone()),
            optional: false,
            through_list: false,
        });
    }
    let mut current = record.clone();
    let mut optional = false;
    let mut through_list = false;
    let mut walked = first.node.clone();
    for (i, seg) in segments.iter().enumerate().skip(1) {
        let Some(field) = current.get(&seg.node) else {
            let mut d = Diagnostic::new(
                Code::UnknownField,
                format!("`{walked}` of `{event}` has no field `{}`", seg.node),
            )
            .primary(seg.span, "unknown field");
            d = match did_you_mean(&seg.node, current.names()) {
                Some(help) => d.help(help),
                None => d.help(format!(
                    "the fields of `{walked}` are: {}",
                    list_names(&current)
                )),
            };
            return Err(d);
        };
        optional |= field.optional;
        if matches!(field.ty, Type::List(_)) {
            through_list = true;
        }
        let elem = field.ty.element().clone();
        if i + 1 == segments.len() {
            return Ok(Resolved {
                ty: if through_list && !matches!(field.ty, Type::List(_)) {
                    elem
                } else {
                    field.ty.clone()
                },
                optional,
                through_list,
            });
        }
        let Some(next) = elem.as_record() else {
            let d = Diagnostic::new(
                Code::UnknownField,
                format!(
                    "`{walked}.{}` is a `{}` and has no fields",
                    seg.node, field.ty
                ),
            )
            .primary(segments[i + 1].span, "cannot look inside a scalar")
            .help(format!("use `{walked}.{}` itself", seg.node));
            return Err(d);
        };
        walked = format!("{walked}.{}", seg.node);
        current = next;
    }
    Err(Diagnostic::new(
        Code::InternalError,
        "path resolution fell through",
    ))
}

/// Help for a path whose first segment is not an envelope record: a typo of
/// one, `detail.` written out, or a field that lives in one of the records.
fn first_segment_help(schema: &Schema, segments: &[ast::Name]) -> String {
    let first = segments[0].node.as_str();
    if let Some(dym) = did_you_mean(first, ENVELOPE) {
        return dym;
    }
    let rest: Vec<&str> = segments.iter().skip(1).map(|s| s.node.as_str()).collect();
    if first == "detail" && !rest.is_empty() {
        return format!("paths start inside `detail`: write `{}`", rest.join("."));
    }
    for record in ENVELOPE {
        if schema
            .record(record)
            .is_some_and(|r| r.get(first).is_some())
        {
            let mut path = vec![record, first];
            path.extend(rest.iter().copied());
            return format!("`{first}` is in `{record}`: write `{}`", path.join("."));
        }
    }
    "paths start with `profile`, `data` or `application`, e.g. `data.size`".to_string()
}

fn list_names(record: &Record) -> String {
    if record.fields.is_empty() {
        return "(none)".to_string();
    }
    let names: Vec<String> = record.names().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}
