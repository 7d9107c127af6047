//! Human, C-like rendering of BTF types for error messages ("struct flow_keys",
//! "int (struct xdp_md *)", "int (*)[4]"). Declarators are built inside-out the way C reads them.
use super::types::*;
use super::Btf;

/// Deep enough for any real declaration; stops runaway rendering of pointer/prototype loops.
const MAX_DEPTH: u32 = 12;

impl Btf {
    /// A C-like description of type `id`; never fails (bad ids render as `<bad type N>`).
    pub fn describe(&self, id: TypeId) -> String {
        self.declare(id, String::new(), false, 0)
    }

    fn name_or(&self, name_off: u32, anon: &str) -> String {
        match self.string_at(name_off) {
            Ok("") => anon.to_string(),
            Ok(name) => name.to_string(),
            Err(_) => format!("<bad name {name_off}>"),
        }
    }

    /// Renders type `id` applied to `declarator` (the part of a C declaration right of the type).
    fn declare(&self, id: TypeId, declarator: String, param_names: bool, depth: u32) -> String {
        let join = |base: String, decl: &str| {
            if decl.is_empty() {
                base
            } else {
                format!("{base} {decl}")
            }
        };
        if depth > MAX_DEPTH {
            return join("...".to_string(), &declarator);
        }
        let Ok(t) = self.type_by_id(id) else {
            return join(format!("<bad type {id}>"), &declarator);
        };
        let next = depth + 1;
        match &t.kind {
            TypeKind::Void => join("void".into(), &declarator),
            TypeKind::Int { .. } | TypeKind::Float { .. } | TypeKind::Typedef { .. } => {
                join(self.name_or(t.name_off, "(anon)"), &declarator)
            }
            TypeKind::Struct { .. } => join(
                format!("struct {}", self.name_or(t.name_off, "{...}")),
                &declarator,
            ),
            TypeKind::Union { .. } => join(
                format!("union {}", self.name_or(t.name_off, "{...}")),
                &declarator,
            ),
            TypeKind::Enum { .. } | TypeKind::Enum64 { .. } => join(
                format!("enum {}", self.name_or(t.name_off, "{...}")),
                &declarator,
            ),
            TypeKind::Fwd { is_union } => {
                let tag = if *is_union { "union" } else { "struct" };
                join(
                    format!("{tag} {}", self.name_or(t.name_off, "(anon)")),
                    &declarator,
                )
            }
            TypeKind::Ptr { target } => {
                let inner = if self.needs_parens(*target) {
                    format!("(*{declarator})")
                } else {
                    format!("*{declarator}")
                };
                self.declare(*target, inner, false, next)
            }
            TypeKind::Const { target } => self.qualify("const", *target, declarator, next),
            TypeKind::Volatile { target } => self.qualify("volatile", *target, declarator, next),
            TypeKind::Restrict { target } => self.qualify("restrict", *target, declarator, next),
            TypeKind::TypeTag { target } => {
                let tag = format!(
                    "__attribute__((btf_type_tag(\"{}\")))",
                    self.name_or(t.name_off, "")
                );
                self.qualify(&tag, *target, declarator, next)
            }
            TypeKind::Array { elem, nelems, .. } => {
                self.declare(*elem, format!("{declarator}[{nelems}]"), false, next)
            }
            TypeKind::FuncProto { ret, params } => {
                let rendered: Vec<String> = params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        if p.type_id == 0 && i + 1 == params.len() {
                            return "...".to_string();
                        }
                        let name = if param_names {
                            self.name_or(p.name_off, "")
                        } else {
                            String::new()
                        };
                        self.declare(p.type_id, name, false, next)
                    })
                    .collect();
                let list = if rendered.is_empty() {
                    "void".to_string()
                } else {
                    rendered.join(", ")
                };
                self.declare(*ret, format!("{declarator}({list})"), false, next)
            }
            TypeKind::Func { proto, linkage } => {
                let name = self.name_or(t.name_off, "(anon)");
                format!(
                    "{}{}",
                    linkage_prefix(linkage.as_str()),
                    self.declare(*proto, name, true, next)
                )
            }
            TypeKind::Var { type_id, linkage } => {
                let name = self.name_or(t.name_off, "(anon)");
                format!(
                    "{}{}",
                    linkage_prefix(linkage.as_str()),
                    self.declare(*type_id, name, false, next)
                )
            }
            TypeKind::Datasec { size, vars } => {
                format!(
                    "section {} ({} vars, {size} bytes)",
                    self.name_or(t.name_off, "(anon)"),
                    vars.len()
                )
            }
            TypeKind::DeclTag {
                target,
                component_idx,
            } => {
                let what = if *component_idx < 0 {
                    String::new()
                } else {
                    format!(" component {component_idx} of")
                };
                format!(
                    "__attribute__((btf_decl_tag(\"{}\"))) on{what} {}",
                    self.name_or(t.name_off, ""),
                    self.declare(*target, String::new(), false, next)
                )
            }
        }
    }

    /// Qualifiers of a pointer go right of its `*` (`int *const p`), others left (`const int`).
    fn qualify(&self, qualifier: &str, target: TypeId, declarator: String, depth: u32) -> String {
        let target_is_ptr = matches!(self.type_by_id(target).map(|t| t.kind()), Ok(Kind::Ptr));
        if target_is_ptr {
            let decl = if declarator.is_empty() {
                qualifier.to_string()
            } else {
                format!("{qualifier} {declarator}")
            };
            self.declare(target, decl, false, depth)
        } else {
            format!(
                "{qualifier} {}",
                self.declare(target, declarator, false, depth)
            )
        }
    }

    /// A pointer to an array or function needs `(*...)`.
    fn needs_parens(&self, target: TypeId) -> bool {
        let mut cur = target;
        for _ in 0..MAX_DEPTH {
            match self.type_by_id(cur).map(|t| &t.kind) {
                Ok(TypeKind::Array { .. } | TypeKind::FuncProto { .. }) => return true,
                Ok(
                    TypeKind::Const { target }
                    | TypeKind::Volatile { target }
                    | TypeKind::Restrict { target }
                    | TypeKind::TypeTag { target },
                ) => cur = *target,
                _ => return false,
            }
        }
        false
    }
}

fn linkage_prefix(linkage: &str) -> &'static str {
    match linkage {
        "static" => "static ",
        "extern" => "extern ",
        _ => "",
    }
}
