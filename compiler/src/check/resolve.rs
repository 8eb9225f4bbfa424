//! Collecting declarations across files into one namespace.
//! Input: every file's AST. Output: [`Decls`], the declarations grouped by
//! kind, with duplicates reported (E010) and dropped.
//! Invariant: after `collect`, every name in `Decls` is unique across
//! events, nodes, triggers, routes, flows and apps.

use std::collections::BTreeMap;

use super::Ctx;
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{self, Span};

#[derive(Default)]
pub(crate) struct Decls<'a> {
    pub events: Vec<&'a ast::EventDecl>,
    pub triggers: Vec<&'a ast::TriggerDecl>,
    pub nodes: Vec<&'a ast::NodeDecl>,
    pub routes: Vec<&'a ast::RouteDecl>,
    pub flows: Vec<&'a ast::FlowDecl>,
    pub apps: Vec<&'a ast::AppDecl>,
    pub tests: Vec<&'a ast::TestDecl>,
    node_index: BTreeMap<&'a str, usize>,
    /// Declarations dropped as duplicates. Their uses (inputs, sinks) still
    /// count, so a name clash does not also warn about unconsumed events.
    pub dropped: Vec<&'a ast::Decl>,
}

impl<'a> Decls<'a> {
    pub fn collect(ctx: &mut Ctx<'_>, files: &'a [ast::File]) -> Decls<'a> {
        let mut decls = Decls::default();
        let mut names: BTreeMap<String, (&'static str, Span)> = BTreeMap::new();
        let mut test_names: BTreeMap<String, Span> = BTreeMap::new();
        for decl in files.iter().flat_map(|f| f.decls.iter()) {
            let (name, what) = match decl {
                ast::Decl::Event(d) => (Some(&d.name), "event"),
                ast::Decl::Trigger(d) => (Some(&d.name), "trigger"),
                ast::Decl::Node(d) => (Some(&d.name), "node"),
                ast::Decl::Route(d) => (d.name.as_ref(), "route"),
                ast::Decl::Flow(d) => (Some(&d.name), "flow"),
                ast::Decl::App(d) => (Some(&d.name), "app"),
                ast::Decl::Test(d) => {
                    if let Some(first) = test_names.get(&d.name.node) {
                        ctx.push(duplicate("test", &d.name.node, d.name.span, "test", *first));
                        continue;
                    }
                    test_names.insert(d.name.node.clone(), d.name.span);
                    decls.tests.push(d);
                    continue;
                }
            };
            if let Some(name) = name {
                if let Some((first_what, first)) = names.get(&name.node) {
                    ctx.push(duplicate(what, &name.node, name.span, first_what, *first));
                    ctx.poisoned.insert(name.node.clone());
                    if let ast::Decl::Node(n) = decl {
                        // What the dropped node emits is unknown now; do not
                        // report its uses again.
                        ctx.poisoned
                            .extend(n.outputs.iter().map(|o| o.node.clone()));
                        for p in &n.params {
                            if let ast::ParamValue::Emit(e) = &p.value {
                                ctx.poisoned.insert(e.event.node.clone());
                            }
                        }
                    }
                    decls.dropped.push(decl);
                    continue;
                }
                names.insert(name.node.clone(), (what, name.span));
            }
            match decl {
                ast::Decl::Event(d) => decls.events.push(d),
                ast::Decl::Trigger(d) => decls.triggers.push(d),
                ast::Decl::Node(d) => {
                    decls.node_index.insert(&d.name.node, decls.nodes.len());
                    decls.nodes.push(d);
                }
                ast::Decl::Route(d) => decls.routes.push(d),
                ast::Decl::Flow(d) => decls.flows.push(d),
                ast::Decl::App(d) => decls.apps.push(d),
                ast::Decl::Test(_) => {}
            }
        }
        decls
    }

    pub fn node(&self, name: &str) -> Option<&'a ast::NodeDecl> {
        self.node_index.get(name).map(|i| self.nodes[*i])
    }
}

fn duplicate(what: &str, name: &str, span: Span, first_what: &str, first: Span) -> Diagnostic {
    let message = if what == first_what {
        format!("{what} `{name}` is declared more than once")
    } else {
        format!("the name `{name}` is used by a {first_what} and a {what}")
    };
    Diagnostic::new(Code::DuplicateName, message)
        .primary(span, "declared again here")
        .secondary(first, "first declared here")
        .help(format!(
            "names are shared by events, nodes, triggers, routes, flows and apps across all files; rename one `{name}`"
        ))
}
