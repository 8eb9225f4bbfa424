//! Document symbols: every declaration of a file, with its fields (events)
//! and parameters (nodes, sinks) as children.

use crate::syntax::ast::{self, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Event,
    Trigger,
    Node,
    Route,
    Flow,
    App,
    Sink,
    Test,
    Record,
    Field,
    Parameter,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentSymbol {
    pub name: String,
    /// `counter(ScreenFrame)`, the field's type, …
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub span: Span,
    /// The name in it.
    pub selection: Span,
    pub children: Vec<DocumentSymbol>,
}

fn symbol(name: &str, kind: SymbolKind, span: Span, selection: Span) -> DocumentSymbol {
    DocumentSymbol {
        name: name.to_string(),
        detail: None,
        kind,
        span,
        selection,
        children: Vec::new(),
    }
}

pub fn document_symbols(file: &ast::File) -> Vec<DocumentSymbol> {
    file.decls.iter().map(decl_symbol).collect()
}

fn decl_symbol(decl: &ast::Decl) -> DocumentSymbol {
    match decl {
        ast::Decl::Event(d) => {
            let mut s = symbol(&d.name.node, SymbolKind::Event, d.span, d.name.span);
            s.children = d
                .records
                .iter()
                .map(|r| {
                    let mut rs = symbol(
                        &r.name.node,
                        SymbolKind::Record,
                        r.name.span.to(r.ty.span),
                        r.name.span,
                    );
                    rs.children = fields(&r.ty);
                    rs
                })
                .collect();
            s
        }
        ast::Decl::Trigger(d) => {
            let mut s = symbol(&d.name.node, SymbolKind::Trigger, d.span, d.name.span);
            s.detail = Some(format!("-> {}", d.event.node));
            s
        }
        ast::Decl::Node(d) => {
            let mut s = symbol(&d.name.node, SymbolKind::Node, d.span, d.name.span);
            let inputs: Vec<&str> = d.inputs.iter().map(|i| i.node.as_str()).collect();
            s.detail = Some(format!(
                "{} {}({})",
                d.class.node.keyword(),
                d.kind.node,
                inputs.join(", ")
            ));
            s.children = params(&d.params);
            s
        }
        ast::Decl::Route(d) => {
            let name = d.name.as_ref().map_or_else(
                || {
                    let targets: Vec<&str> = d.targets.iter().map(|t| t.node.as_str()).collect();
                    format!("{} -> {}", d.event.node, targets.join(", "))
                },
                |n| n.node.clone(),
            );
            let selection = d.name.as_ref().map_or(d.event.span, |n| n.span);
            symbol(&name, SymbolKind::Route, d.span, selection)
        }
        ast::Decl::Flow(d) => symbol(&d.name.node, SymbolKind::Flow, d.span, d.name.span),
        ast::Decl::App(d) => {
            let mut s = symbol(&d.name.node, SymbolKind::App, d.span, d.name.span);
            s.children = d
                .sinks
                .iter()
                .map(|sink| {
                    let mut ss =
                        symbol(&sink.name.node, SymbolKind::Sink, sink.span, sink.name.span);
                    ss.detail = Some(format!("{}({})", sink.kind.node, sink.event.node));
                    ss.children = params(&sink.params);
                    ss
                })
                .collect();
            s
        }
        ast::Decl::Test(d) => symbol(&d.name.node, SymbolKind::Test, d.span, d.name.span),
    }
}

fn fields(record: &ast::RecordType) -> Vec<DocumentSymbol> {
    record
        .fields
        .iter()
        .map(|f| {
            let mut s = symbol(&f.name.node, SymbolKind::Field, f.span, f.name.span);
            let mut ty = &f.ty;
            while let ast::TypeKind::List(inner) = &ty.kind {
                ty = inner;
            }
            if let ast::TypeKind::Record(inner) = &ty.kind {
                s.children = fields(inner);
            }
            s
        })
        .collect()
}

fn params(params: &[ast::Param]) -> Vec<DocumentSymbol> {
    params
        .iter()
        .map(|p| symbol(&p.name.node, SymbolKind::Parameter, p.span, p.name.span))
        .collect()
}
