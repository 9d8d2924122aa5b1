//! Dump composite types, range types and collations as the files write them
//! (README "Composite types, range types and collations"): each loads back
//! as the same object.

use std::fmt::Write as _;

use super::{header, inline_table, key, string, TypeNames};
use crate::model::{key_part, Collation, CompositeType, ObjName, RangeType};

/// An object name as the files write it: `name`, or `schema.name`, each
/// part in double quotes where it holds a dot or a quote.
fn obj(o: &ObjName) -> String {
    match &o.schema {
        Some(s) => format!("{}.{}", key_part(s), key_part(&o.name)),
        None => key_part(&o.name),
    }
}

pub(super) fn write_composite(out: &mut String, c: &CompositeType, types: &TypeNames) {
    let _ = writeln!(out, "\n{}", header("composite_types", &c.name, None));
    if let Some(cm) = &c.comment {
        let _ = writeln!(out, "comment = {}", string(cm));
    }
    if c.attributes.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        header("composite_types", &c.name, Some("attributes"))
    );
    for a in &c.attributes {
        let ty = string(&types.spell(&a.ty));
        let value = match &a.collation {
            Some(co) => inline_table(&[("type", ty), ("collation", string(&obj(co)))]),
            None => ty,
        };
        let _ = writeln!(out, "{} = {value}", key(&a.name));
    }
}

pub(super) fn write_collation(out: &mut String, c: &Collation) {
    let _ = writeln!(out, "\n{}", header("collations", &c.name, None));
    if c.provider != "libc" {
        let _ = writeln!(out, "provider = {}", string(&c.provider));
    }
    match (&c.locale, &c.lc_collate, &c.lc_ctype) {
        (Some(l), _, _) => {
            let _ = writeln!(out, "locale = {}", string(l));
        }
        (None, Some(a), Some(b)) if a == b => {
            let _ = writeln!(out, "locale = {}", string(a));
        }
        (None, a, b) => {
            for (k, v) in [("lc_collate", a), ("lc_ctype", b)] {
                if let Some(v) = v {
                    let _ = writeln!(out, "{k} = {}", string(v));
                }
            }
        }
    }
    if !c.deterministic {
        let _ = writeln!(out, "deterministic = false");
    }
    if let Some(cm) = &c.comment {
        let _ = writeln!(out, "comment = {}", string(cm));
    }
}

pub(super) fn write_range(out: &mut String, r: &RangeType, types: &TypeNames) {
    let _ = writeln!(out, "\n{}", header("range_types", &r.name, None));
    let _ = writeln!(out, "subtype = {}", string(&types.spell(&r.subtype)));
    let names = [
        ("subtype_opclass", &r.subtype_opclass),
        ("collation", &r.collation),
        ("canonical", &r.canonical),
        ("subtype_diff", &r.subtype_diff),
    ];
    for (k, v) in names {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", string(&obj(v)));
        }
    }
    if let Some(m) = &r.multirange_type_name {
        let _ = writeln!(out, "multirange_type_name = {}", string(&key_part(m)));
    }
    if let Some(cm) = &r.comment {
        let _ = writeln!(out, "comment = {}", string(cm));
    }
}
