//! The files' composite types, range types and collations (README
//! "Composite types, range types and collations").
//!
//! Loaded in two steps, so that types may use each other in any file order: a
//! type is first declared by name (a range with its multirange's name), so
//! that every type of the files is known; then its attribute types or subtype
//! are resolved against all of them.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::{resolve_type, Errors, FullForm, ShortOrFull, Source};
use crate::desired::types;
use crate::model::names;
use crate::model::{
    Attribute, Catalog, Collation, CompositeType, ObjName, Origin, QualName, RangeType,
};

/// `[composite_types.address]`: `attributes` in order, each a type or
/// `{ type = "...", collation = "..." }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawComposite {
    #[serde(default)]
    attributes: IndexMap<Spanned<String>, Spanned<ShortOrFull<String, RawAttributeFull>>>,
    comment: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttributeFull {
    #[serde(rename = "type")]
    ty: String,
    collation: Option<String>,
}

impl FullForm for RawAttributeFull {
    const EXPECTING: &'static str =
        "a type in a string, or { type = \"...\", collation = \"...\" }";
}

/// `[range_types.floatrange]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRange {
    subtype: Spanned<String>,
    subtype_opclass: Option<Spanned<String>>,
    collation: Option<Spanned<String>>,
    canonical: Option<Spanned<String>>,
    subtype_diff: Option<Spanned<String>>,
    multirange_type_name: Option<Spanned<String>>,
    comment: Option<String>,
}

/// Whether `name` is a type of the files (enum, domain, composite, range, or
/// a range's multirange), as a column or an attribute may name it.
pub(super) fn known(cat: &Catalog, name: &QualName) -> bool {
    cat.enums.contains_key(name)
        || cat.domains.contains_key(name)
        || cat.composite_types.contains_key(name)
        || cat.range_types.contains_key(name)
        || cat.range_types.values().any(|r| &r.multirange() == name)
}

/// `name` or `schema.name` (a part in double quotes as written) as an
/// object name; `what` says what it names, for the error.
pub(super) fn obj_name(s: &str, what: &str) -> Result<ObjName, String> {
    let parts = types::ident_parts(s, false).map_err(|m| format!("bad {what} `{s}`: {m}"))?;
    match parts.as_slice() {
        [n] if !n.is_empty() => Ok(ObjName {
            schema: None,
            name: n.clone(),
        }),
        [sc, n] if !sc.is_empty() && !n.is_empty() => Ok(ObjName::from_catalog(sc, n)),
        _ => Err(format!(
            "bad {what} `{s}`: expected `name` or `schema.name`"
        )),
    }
}

fn obj_name_at(
    errors: &mut Errors,
    src: &Source,
    s: &Option<Spanned<String>>,
    what: &str,
) -> Option<ObjName> {
    let s = s.as_ref()?;
    obj_name(s.get_ref(), what)
        .map_err(|m| errors.at(&src.origin(s.span()), m))
        .ok()
}

/// A composite type by name, its attributes not yet read (`build_composite`).
pub(super) fn declare_composite(
    name: QualName,
    origin: Origin,
    raw: &RawComposite,
) -> CompositeType {
    CompositeType {
        name,
        attributes: Vec::new(),
        comment: raw.comment.clone(),
        origin: Some(origin),
    }
}

/// The attributes of a declared composite type, resolved against every type
/// of the files: a name at most 63 bytes and given once, a type that is not
/// serial, a collation name.
pub(super) fn build_composite(
    cat: &Catalog,
    src: &Source,
    name: &QualName,
    raw: &RawComposite,
    errors: &mut Errors,
) -> Vec<Attribute> {
    let mut attributes = Vec::with_capacity(raw.attributes.len());
    for (key, a) in &raw.attributes {
        let o = src.origin(key.span());
        let attr = key.get_ref();
        if attr.is_empty() || attr.len() > names::MAX_IDENT_BYTES {
            errors.at(
                &o,
                format!(
                    "composite type `{name}`: bad attribute name `{attr}`: expected 1 to {} bytes",
                    names::MAX_IDENT_BYTES
                ),
            );
            continue;
        }
        let (ty, collation) = match a.get_ref() {
            ShortOrFull::Short(t) => (t.as_str(), None),
            ShortOrFull::Full(f) => (f.ty.as_str(), f.collation.as_deref()),
        };
        let at = src.origin(a.span());
        let ty = match resolve_type(cat, ty) {
            Ok(p) if p.serial.is_none() => p.canonical,
            Ok(_) => {
                errors.at(
                    &at,
                    format!("composite type `{name}`: attribute `{attr}` cannot be serial: use an integer type"),
                );
                continue;
            }
            Err(m) => {
                errors.at(
                    &at,
                    format!("composite type `{name}`, attribute `{attr}`: {m}"),
                );
                continue;
            }
        };
        let collation = match collation.map(|c| obj_name(c, "collation")) {
            Some(Err(m)) => {
                errors.at(&at, m);
                continue;
            }
            Some(Ok(c)) => Some(c),
            None => None,
        };
        attributes.push(Attribute {
            name: attr.clone(),
            ty,
            collation,
        });
    }
    attributes
}

/// A range type by name and options, its subtype not yet resolved
/// (`build_range`): the multirange's name given equal to PostgreSQL's own
/// is the same as none.
pub(super) fn declare_range(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawRange,
    errors: &mut Errors,
) -> RangeType {
    let multirange_type_name = raw.multirange_type_name.as_ref().and_then(|m| {
        let o = src.origin(m.span());
        match obj_name(m.get_ref(), "multirange_type_name") {
            Ok(ObjName { schema: Some(s), .. }) if s != name.schema => {
                errors.at(
                    &o,
                    format!("range type `{name}`: the multirange type is in the range's schema; expected a name without a schema"),
                );
                None
            }
            Ok(n) if n.name.len() > names::MAX_IDENT_BYTES => {
                errors.at(&o, format!("range type `{name}`: multirange_type_name is longer than {} bytes", names::MAX_IDENT_BYTES));
                None
            }
            Ok(n) => (n.name != RangeType::default_multirange_name(&name.name)).then_some(n.name),
            Err(m) => {
                errors.at(&o, m);
                None
            }
        }
    });
    RangeType {
        subtype: String::new(),
        subtype_opclass: obj_name_at(errors, src, &raw.subtype_opclass, "subtype_opclass"),
        collation: obj_name_at(errors, src, &raw.collation, "collation"),
        canonical: obj_name_at(errors, src, &raw.canonical, "canonical function"),
        subtype_diff: obj_name_at(errors, src, &raw.subtype_diff, "subtype_diff function"),
        multirange_type_name,
        comment: raw.comment.clone(),
        origin: Some(origin),
        name,
    }
}

/// The canonical subtype of a declared range type (`None` when it is not a
/// type; reported). A range over a serial is refused as a domain's is.
pub(super) fn build_range(
    cat: &Catalog,
    src: &Source,
    name: &QualName,
    raw: &RawRange,
    errors: &mut Errors,
) -> Option<String> {
    let o = src.origin(raw.subtype.span());
    match resolve_type(cat, raw.subtype.get_ref()) {
        Ok(p) if p.serial.is_none() => Some(p.canonical),
        Ok(_) => {
            errors.at(
                &o,
                format!("range type `{name}`: the subtype cannot be serial: use an integer type"),
            );
            None
        }
        Err(m) => {
            errors.at(&o, format!("range type `{name}`: {m}"));
            None
        }
    }
}

/// `[collations.german_phonebook]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCollation {
    provider: Option<Spanned<String>>,
    locale: Option<String>,
    lc_collate: Option<String>,
    lc_ctype: Option<String>,
    #[serde(default = "yes")]
    deterministic: bool,
    comment: Option<String>,
}

fn yes() -> bool {
    true
}

/// A collation of the files, as the catalog holds it: libc's `locale` as
/// both `lc_collate` and `lc_ctype` (each may be given on its own); icu and
/// builtin with a `locale` and neither of those; nondeterministic only with
/// icu (PostgreSQL's rules for CREATE COLLATION).
pub(super) fn build_collation(
    src: &Source,
    name: QualName,
    origin: Origin,
    raw: &RawCollation,
    errors: &mut Errors,
) -> Option<Collation> {
    let provider = raw
        .provider
        .as_ref()
        .map_or("libc", |p| p.get_ref().as_str());
    let at = raw
        .provider
        .as_ref()
        .map_or_else(|| origin.clone(), |p| src.origin(p.span()));
    let bad = |m: String, errors: &mut Errors| {
        errors.at(&at, format!("collation `{name}`: {m}"));
        None
    };
    let (locale, lc_collate, lc_ctype) = match provider {
        "libc" => {
            let collate = raw.lc_collate.clone().or_else(|| raw.locale.clone());
            let ctype = raw.lc_ctype.clone().or_else(|| raw.locale.clone());
            if collate.is_none() || ctype.is_none() {
                return bad(
                    "a libc collation needs `locale`, or `lc_collate` and `lc_ctype`".into(),
                    errors,
                );
            }
            (None, collate, ctype)
        }
        "icu" | "builtin" => {
            if raw.lc_collate.is_some() || raw.lc_ctype.is_some() {
                return bad(
                    format!("lc_collate and lc_ctype are libc's; an {provider} collation takes `locale`"),
                    errors,
                );
            }
            if raw.locale.is_none() {
                return bad(format!("an {provider} collation needs `locale`"), errors);
            }
            (raw.locale.clone(), None, None)
        }
        other => {
            return bad(
                format!("unknown provider `{other}`: expected `libc`, `icu` or `builtin`"),
                errors,
            )
        }
    };
    if !raw.deterministic && provider != "icu" {
        return bad(
            "only an icu collation can be nondeterministic (`deterministic = false`)".into(),
            errors,
        );
    }
    Some(Collation {
        name,
        provider: provider.to_string(),
        locale,
        lc_collate,
        lc_ctype,
        deterministic: raw.deterministic,
        comment: raw.comment.clone(),
        origin: Some(origin),
    })
}
