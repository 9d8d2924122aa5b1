//! User-defined types beyond enums and domains: composite types
//! (`CREATE TYPE name AS (attr type, ...)`) and range types (`CREATE TYPE
//! name AS RANGE (SUBTYPE = ...)`), and collations (`CREATE COLLATION`),
//! which columns and types use. Filled from the files and from pg_catalog
//! (`pg_attribute` of the type's relation, `pg_range`, `pg_collation`), both
//! with types in their canonical spelling (`format_type`), so that they
//! compare as text.

use serde::Serialize;

use crate::model::names::quote_ident;
use crate::model::{ObjName, Origin, QualName};

/// One attribute of a composite type: its name, canonical type and a
/// collation other than the type's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attribute {
    pub name: String,
    pub ty: String,
    pub collation: Option<ObjName>,
}

/// `CREATE TYPE name AS (attr type [COLLATE c], ...)`: the attributes in order.
#[derive(Clone, Debug, Serialize)]
pub struct CompositeType {
    pub name: QualName,
    pub attributes: Vec<Attribute>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

impl Attribute {
    /// `name type [COLLATE c]`, as CREATE TYPE and ADD ATTRIBUTE take it.
    pub fn sql(&self) -> String {
        let mut s = format!("{} {}", quote_ident(&self.name), self.ty);
        if let Some(c) = &self.collation {
            s.push_str(" COLLATE ");
            s.push_str(&c.sql());
        }
        s
    }
}

impl CompositeType {
    /// `ALTER TYPE name ADD ATTRIBUTE a type, ADD ATTRIBUTE ...` for `added`.
    pub fn add_attributes_sql(&self, added: &[Attribute]) -> String {
        let adds: Vec<String> = added
            .iter()
            .map(|a| format!("ADD ATTRIBUTE {}", a.sql()))
            .collect();
        format!("ALTER TYPE {} {}", self.name.sql(), adds.join(", "))
    }

    /// The attribute list as CREATE TYPE takes it and a diff shows it:
    /// `(street text, city text COLLATE "C")`.
    pub fn definition(&self) -> String {
        let attrs: Vec<String> = self.attributes.iter().map(Attribute::sql).collect();
        format!("({})", attrs.join(", "))
    }
}

/// `CREATE TYPE name AS RANGE (SUBTYPE = ..., ...)`. Each optional part is
/// `None` where PostgreSQL's default applies: the subtype's default btree
/// operator class, its collation, no canonical function, no subtype_diff, the
/// multirange named as PostgreSQL names it (`multirange_name`).
#[derive(Clone, Debug, Serialize)]
pub struct RangeType {
    pub name: QualName,
    /// The canonical subtype (`double precision`).
    pub subtype: String,
    pub subtype_opclass: Option<ObjName>,
    pub collation: Option<ObjName>,
    /// A function's name (schema left out in `pg_catalog` and `public`).
    pub canonical: Option<ObjName>,
    pub subtype_diff: Option<ObjName>,
    /// The multirange type's name (PostgreSQL 14+), in the range's schema,
    /// when it is not the default one.
    pub multirange_type_name: Option<String>,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

impl RangeType {
    /// The multirange's name as PostgreSQL makes it when none is given
    /// (makeMultirangeTypeName): the first `range` of the name becomes
    /// `multirange`, else `_multirange` is appended.
    pub fn default_multirange_name(range: &str) -> String {
        match range.find("range") {
            Some(i) => format!("{}multi{}", &range[..i], &range[i..]),
            None => format!("{range}_multirange"),
        }
    }

    /// The multirange type this range comes with (in the range's schema).
    pub fn multirange(&self) -> QualName {
        QualName::new(
            self.name.schema.clone(),
            self.multirange_type_name
                .clone()
                .unwrap_or_else(|| Self::default_multirange_name(&self.name.name)),
        )
    }

    /// The options as CREATE TYPE ... AS RANGE takes them (`multirange`:
    /// whether to name the multirange, PostgreSQL 14+), and as a diff shows them.
    pub fn definition(&self, multirange: bool) -> String {
        let mut parts = vec![format!("SUBTYPE = {}", self.subtype)];
        if let Some(o) = &self.subtype_opclass {
            parts.push(format!("SUBTYPE_OPCLASS = {}", o.sql()));
        }
        if let Some(c) = &self.collation {
            parts.push(format!("COLLATION = {}", c.sql()));
        }
        if let Some(f) = &self.canonical {
            parts.push(format!("CANONICAL = {}", f.sql()));
        }
        if let Some(f) = &self.subtype_diff {
            parts.push(format!("SUBTYPE_DIFF = {}", f.sql()));
        }
        if let (true, Some(m)) = (multirange, &self.multirange_type_name) {
            parts.push(format!(
                "MULTIRANGE_TYPE_NAME = {}",
                QualName::new(self.name.schema.clone(), m.clone()).sql()
            ));
        }
        format!("({})", parts.join(", "))
    }
}

/// `CREATE COLLATION name (provider = ..., locale = ..., deterministic = ...)`.
/// For libc, the locale is `lc_collate` and `lc_ctype` (a `locale` of the
/// files sets both); for icu and builtin, `locale` (pg_collation's
/// `colliculocale` on PostgreSQL 15 and 16, `colllocale` from 17).
#[derive(Clone, Debug, Serialize)]
pub struct Collation {
    pub name: QualName,
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    pub locale: Option<String>,
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub deterministic: bool,
    pub comment: Option<String>,
    pub origin: Option<Origin>,
}

impl Collation {
    /// The options as CREATE COLLATION takes them, and as a diff shows them.
    pub fn definition(&self) -> String {
        use crate::model::names::quote_literal;
        let mut parts = vec![format!("provider = {}", self.provider)];
        for (k, v) in [
            ("locale", &self.locale),
            ("lc_collate", &self.lc_collate),
            ("lc_ctype", &self.lc_ctype),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k} = {}", quote_literal(v)));
            }
        }
        if !self.deterministic {
            parts.push("deterministic = false".into());
        }
        format!("({})", parts.join(", "))
    }
}

/// A composite type, a range type or a collation, as the differ and the
/// renderer handle them.
#[derive(Clone, Debug, Serialize)]
pub enum UserType {
    Composite(CompositeType),
    Range(Box<RangeType>),
    Collation(Box<Collation>),
    /// A text search configuration (`model::tsconfig`).
    TsConfig(Box<crate::model::TsConfig>),
}

impl UserType {
    pub fn name(&self) -> &QualName {
        match self {
            UserType::Composite(c) => &c.name,
            UserType::Range(r) => &r.name,
            UserType::Collation(c) => &c.name,
            UserType::TsConfig(c) => &c.name,
        }
    }
    /// `composite type`, `range type` or `collation`.
    pub fn kind(&self) -> &'static str {
        match self {
            UserType::Composite(_) => "composite type",
            UserType::Range(_) => "range type",
            UserType::Collation(_) => "collation",
            UserType::TsConfig(_) => "text search configuration",
        }
    }
    pub fn comment(&self) -> &Option<String> {
        match self {
            UserType::Composite(c) => &c.comment,
            UserType::Range(r) => &r.comment,
            UserType::Collation(c) => &c.comment,
            UserType::TsConfig(c) => &c.comment,
        }
    }
    pub fn origin(&self) -> &Option<Origin> {
        match self {
            UserType::Composite(c) => &c.origin,
            UserType::Range(r) => &r.origin,
            UserType::Collation(c) => &c.origin,
            UserType::TsConfig(c) => &c.origin,
        }
    }
    /// What is compared, and shown on both sides of a refused change.
    pub fn definition(&self) -> String {
        match self {
            UserType::Composite(c) => format!("AS {}", c.definition()),
            UserType::Range(r) => format!("AS RANGE {}", r.definition(true)),
            UserType::Collation(c) => c.definition(),
            UserType::TsConfig(c) => c.definition(),
        }
    }
    /// `CREATE TYPE ...` (`multirange`: the server takes MULTIRANGE_TYPE_NAME).
    pub fn create_sql(&self, multirange: bool) -> String {
        match self {
            UserType::Composite(c) => format!("CREATE TYPE {} AS {}", c.name.sql(), c.definition()),
            UserType::Range(r) => format!(
                "CREATE TYPE {} AS RANGE {}",
                r.name.sql(),
                r.definition(multirange)
            ),
            UserType::Collation(c) => {
                format!("CREATE COLLATION {} {}", c.name.sql(), c.definition())
            }
            UserType::TsConfig(c) => c.create_sql(),
        }
    }
    /// Every statement that makes it: `create_sql`, then for a text search
    /// configuration its mappings.
    pub fn create_statements(&self, multirange: bool) -> Vec<String> {
        match self {
            UserType::TsConfig(c) => c.create_statements(),
            _ => vec![self.create_sql(multirange)],
        }
    }
    /// The canonical names of the types it uses (`a[]` as `a`).
    pub fn uses(&self) -> Vec<&str> {
        fn base(t: &str) -> &str {
            t.trim_end_matches("[]")
        }
        match self {
            UserType::Composite(c) => c.attributes.iter().map(|a| base(&a.ty)).collect(),
            UserType::Range(r) => vec![base(&r.subtype)],
            UserType::Collation(_) | UserType::TsConfig(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multirange_names_follow_postgres() {
        assert_eq!(
            RangeType::default_multirange_name("floatrange"),
            "floatmultirange"
        );
        assert_eq!(
            RangeType::default_multirange_name("ranges_of_x"),
            "multiranges_of_x"
        );
        assert_eq!(
            RangeType::default_multirange_name("span"),
            "span_multirange"
        );
    }

    #[test]
    fn composite_definition_quotes_and_collates() {
        let c = CompositeType {
            name: QualName::new("public", "address"),
            attributes: vec![
                Attribute {
                    name: "Street".into(),
                    ty: "text".into(),
                    collation: None,
                },
                Attribute {
                    name: "city".into(),
                    ty: "text".into(),
                    collation: Some(ObjName::parse("C")),
                },
            ],
            comment: None,
            origin: None,
        };
        assert_eq!(c.definition(), "(\"Street\" text, city text COLLATE \"C\")");
    }
}
