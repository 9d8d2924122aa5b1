//! Canonical type names: `int4` and `integer` are the same type. The canonical
//! form is what `format_type` prints with `search_path = public`.

/// The outcome of reading a type name from the files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedType {
    /// Canonical spelling, as `format_type` prints it.
    pub canonical: String,
    /// `serial`, `bigserial` or `smallserial` when the files said so.
    pub serial: Option<&'static str>,
    /// For a type that is not built in: its schema and name (without array brackets).
    pub user_type: Option<(String, String)>,
}

/// Built-in types without modifiers, by every name PostgreSQL accepts, and their canonical name.
const SIMPLE: &[(&str, &str)] = &[
    ("int", "integer"),
    ("int4", "integer"),
    ("integer", "integer"),
    ("int8", "bigint"),
    ("bigint", "bigint"),
    ("int2", "smallint"),
    ("smallint", "smallint"),
    ("float8", "double precision"),
    ("double precision", "double precision"),
    ("float4", "real"),
    ("real", "real"),
    ("bool", "boolean"),
    ("boolean", "boolean"),
    ("text", "text"),
    ("uuid", "uuid"),
    ("json", "json"),
    ("jsonb", "jsonb"),
    ("bytea", "bytea"),
    ("inet", "inet"),
    ("cidr", "cidr"),
    ("macaddr", "macaddr"),
    ("macaddr8", "macaddr8"),
    ("date", "date"),
    ("money", "money"),
    ("xml", "xml"),
    ("tsvector", "tsvector"),
    ("tsquery", "tsquery"),
    ("point", "point"),
    ("line", "line"),
    ("lseg", "lseg"),
    ("box", "box"),
    ("path", "path"),
    ("polygon", "polygon"),
    ("circle", "circle"),
    ("oid", "oid"),
    ("regclass", "regclass"),
    ("regtype", "regtype"),
    ("name", "name"),
    ("tid", "tid"),
    ("xid", "xid"),
    ("xid8", "xid8"),
    ("cid", "cid"),
    ("regproc", "regproc"),
    ("regprocedure", "regprocedure"),
    ("regoper", "regoper"),
    ("regoperator", "regoperator"),
    ("regnamespace", "regnamespace"),
    ("regrole", "regrole"),
    ("regconfig", "regconfig"),
    ("regdictionary", "regdictionary"),
    ("regcollation", "regcollation"),
    ("int2vector", "int2vector"),
    ("oidvector", "oidvector"),
    ("aclitem", "aclitem"),
    ("jsonpath", "jsonpath"),
    ("pg_node_tree", "pg_node_tree"),
    ("\"char\"", "\"char\""),
    ("int4range", "int4range"),
    ("int8range", "int8range"),
    ("numrange", "numrange"),
    ("tsrange", "tsrange"),
    ("tstzrange", "tstzrange"),
    ("daterange", "daterange"),
    ("int4multirange", "int4multirange"),
    ("int8multirange", "int8multirange"),
    ("nummultirange", "nummultirange"),
    ("tsmultirange", "tsmultirange"),
    ("tstzmultirange", "tstzmultirange"),
    ("datemultirange", "datemultirange"),
    ("pg_lsn", "pg_lsn"),
    ("refcursor", "refcursor"),
    ("gtsvector", "gtsvector"),
    ("pg_ndistinct", "pg_ndistinct"),
    ("pg_dependencies", "pg_dependencies"),
    ("pg_mcv_list", "pg_mcv_list"),
    ("pg_brin_bloom_summary", "pg_brin_bloom_summary"),
    (
        "pg_brin_minmax_multi_summary",
        "pg_brin_minmax_multi_summary",
    ),
    ("pg_snapshot", "pg_snapshot"),
    ("txid_snapshot", "txid_snapshot"),
    ("bpchar", "bpchar"),
    ("varchar", "character varying"),
    ("character varying", "character varying"),
    ("char varying", "character varying"),
    ("varbit", "bit varying"),
    ("bit varying", "bit varying"),
    ("numeric", "numeric"),
    ("decimal", "numeric"),
    ("dec", "numeric"),
    ("interval", "interval"),
    ("serial", "integer"),
    ("serial4", "integer"),
    ("bigserial", "bigint"),
    ("serial8", "bigint"),
    ("smallserial", "smallint"),
    ("serial2", "smallint"),
];

/// Types that well-known extensions add, so the loader can tell them from typos.
pub const EXTENSION_TYPES: &[(&str, &str)] = &[
    ("citext", "citext"),
    ("ltree", "ltree"),
    ("lquery", "ltree"),
    ("ltxtquery", "ltree"),
    ("hstore", "hstore"),
    ("cube", "cube"),
    ("earth", "earthdistance"),
    ("vector", "vector"),
    ("halfvec", "vector"),
    ("sparsevec", "vector"),
    ("geometry", "postgis"),
    ("geography", "postgis"),
    ("isbn", "isn"),
    ("isbn13", "isn"),
    ("issn", "isn"),
    ("ean13", "isn"),
    ("seg", "seg"),
];

/// The fields an interval may be limited to (`interval day to second`), as
/// PostgreSQL's grammar has them; a precision goes only after `second`.
pub(crate) const INTERVAL_FIELDS: &[&str] = &[
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "year to month",
    "day to hour",
    "day to minute",
    "day to second",
    "hour to minute",
    "hour to second",
    "minute to second",
];

/// The default operator class of a built-in type (canonical, modifiers
/// allowed) for an index method (`btree`, `hash`, `gin`), as PostgreSQL 15's
/// pg_opclass marks them: for comparing index keys where no database can
/// say (an explicit default is no difference). `None` when not known here.
pub fn default_opclass(method: &str, ty: &str) -> Option<&'static str> {
    // `timestamp(3) with time zone[]`: the base without modifier and brackets.
    let (base, _, dims) = split(ty).ok()?;
    let array = dims > 0;
    match (method, array) {
        ("gin", true) | ("btree", true) | ("hash", true) => return Some("array_ops"),
        ("gin", false) => {
            return match base.as_str() {
                "jsonb" => Some("jsonb_ops"),
                "tsvector" => Some("tsvector_ops"),
                _ => None,
            }
        }
        ("btree" | "hash", false) => {}
        _ => return None,
    }
    Some(match base.as_str() {
        "boolean" => "bool_ops",
        "character" | "bpchar" => "bpchar_ops",
        "bytea" => "bytea_ops",
        "\"char\"" => "char_ops",
        "date" => "date_ops",
        "real" => "float4_ops",
        "double precision" => "float8_ops",
        "inet" | "cidr" => "inet_ops",
        "smallint" => "int2_ops",
        "integer" => "int4_ops",
        "bigint" => "int8_ops",
        "interval" => "interval_ops",
        "jsonb" => "jsonb_ops",
        "macaddr" => "macaddr_ops",
        "numeric" => "numeric_ops",
        "oid" => "oid_ops",
        "text" | "character varying" => "text_ops",
        "time without time zone" => "time_ops",
        "time with time zone" => "timetz_ops",
        "timestamp without time zone" => "timestamp_ops",
        "timestamp with time zone" => "timestamptz_ops",
        "uuid" => "uuid_ops",
        _ => return None,
    })
}

/// Split `name(mods)[]...` into its parts. Returns (base, modifiers, array dimensions).
fn split(ty: &str) -> Result<(String, Option<String>, usize), String> {
    let mut s = ty.trim().to_string();
    let mut dims = 0;
    loop {
        let t = s.trim_end();
        if let Some(stripped) = t.strip_suffix(']') {
            let open = stripped
                .rfind('[')
                .ok_or_else(|| format!("unbalanced `]` in type `{ty}`"))?;
            let inside = &stripped[open + 1..];
            if !inside.trim().chars().all(|c| c.is_ascii_digit()) {
                return Err(format!("bad array bound `[{inside}]` in type `{ty}`"));
            }
            s = stripped[..open].to_string();
            dims += 1;
        } else if let Some(stripped) = t
            .to_ascii_lowercase()
            .strip_suffix(" array")
            .map(|p| t[..p.len()].to_string())
        {
            s = stripped;
            dims += 1;
        } else {
            s = t.to_string();
            break;
        }
    }
    // Modifiers: the first parenthesised group. For `timestamp(3) with time zone`
    // the group sits in the middle.
    let (base, mods) = match s.find('(') {
        Some(open) => {
            let close = s[open..]
                .find(')')
                .map(|i| i + open)
                .ok_or_else(|| format!("unbalanced `(` in type `{ty}`"))?;
            let mods: String = s[open + 1..close]
                .split(',')
                .map(|m| m.trim())
                .collect::<Vec<_>>()
                .join(",");
            if mods.is_empty()
                || !mods.split(',').all(|m| {
                    let m = m.strip_prefix('-').unwrap_or(m);
                    !m.is_empty() && m.chars().all(|c| c.is_ascii_digit())
                })
            {
                return Err(format!(
                    "bad type modifier `({})` in type `{ty}`",
                    &s[open + 1..close]
                ));
            }
            let base = format!("{} {}", s[..open].trim(), s[close + 1..].trim());
            (base, Some(mods))
        }
        None => (s, None),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok((base, mods, dims))
}

/// Canonicalize a type name from the files.
/// `is_user_type(schema, name)` says whether the files or a listed extension define it.
pub fn parse_type(ty: &str) -> Result<ParsedType, String> {
    let (base, mods, dims) = split(ty)?;
    if base.is_empty() {
        return Err("empty type".into());
    }
    let lower = base.to_ascii_lowercase();
    let array = "[]".repeat(dims.min(1));
    let with_mods = |name: &str| match &mods {
        Some(m) => format!("{name}({m})"),
        None => name.to_string(),
    };
    let no_mods = |name: &str| -> Result<String, String> {
        match &mods {
            Some(_) => Err(format!("type `{name}` takes no modifier")),
            None => Ok(name.to_string()),
        }
    };
    let canonical = match lower.as_str() {
        fields if fields.starts_with("interval ") => {
            let fields = &fields["interval ".len()..];
            if !INTERVAL_FIELDS.contains(&fields) {
                return Err(format!(
                    "bad interval fields `{fields}` in type `{ty}`: expected one of {}",
                    INTERVAL_FIELDS.join(", ")
                ));
            }
            match &mods {
                Some(_) if !fields.ends_with("second") => {
                    return Err(format!(
                        "type `{ty}`: an interval's precision goes only after `second`"
                    ))
                }
                Some(p) => format!("interval {fields}({p})"),
                None => format!("interval {fields}"),
            }
        }
        "timestamptz" | "timestamp with time zone" => {
            timelike("timestamp", &mods, "with time zone")
        }
        "timestamp" | "timestamp without time zone" => {
            timelike("timestamp", &mods, "without time zone")
        }
        "timetz" | "time with time zone" => timelike("time", &mods, "with time zone"),
        "time" | "time without time zone" => timelike("time", &mods, "without time zone"),
        "char" | "character" => format!("character({})", mods.as_deref().unwrap_or("1")),
        "bit" => format!("bit({})", mods.as_deref().unwrap_or("1")),
        "float" | "double" => match mods.as_deref() {
            None => "double precision".into(),
            Some(p) => match p.parse::<u32>() {
                Ok(1..=24) => "real".into(),
                Ok(25..=53) => "double precision".into(),
                _ => return Err(format!("float precision must be 1..53, not {p}")),
            },
        },
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2" => {
            if dims > 0 {
                return Err(format!("`{base}` cannot be an array"));
            }
            let keyword = match lower.as_str() {
                "serial" | "serial4" => "serial",
                "bigserial" | "serial8" => "bigserial",
                _ => "smallserial",
            };
            let canonical = no_mods(SIMPLE.iter().find(|(k, _)| *k == lower).unwrap().1)?;
            return Ok(ParsedType {
                canonical,
                serial: Some(keyword),
                user_type: None,
            });
        }
        "numeric" | "decimal" | "dec" => match &mods {
            // numeric(p) is numeric(p,0), as format_type prints it.
            Some(m) if !m.contains(',') => format!("numeric({m},0)"),
            _ => with_mods("numeric"),
        },
        "character varying" | "varchar" | "char varying" | "bit varying" | "varbit"
        | "interval" | "bpchar" => {
            let name = SIMPLE.iter().find(|(k, _)| *k == lower).unwrap().1;
            with_mods(name)
        }
        _ => {
            if let Some((_, canon)) = SIMPLE.iter().find(|(k, _)| *k == lower) {
                no_mods(canon)?
            } else {
                // Not built in: a user type (an enum of the files) or an extension's type.
                let (schema, name) = split_qualified(&base)?;
                let shown = crate::model::QualName::new(schema.clone(), name.clone()).printed();
                let canonical = match &mods {
                    Some(m) => format!("{shown}({m})"),
                    None => shown,
                };
                return Ok(ParsedType {
                    canonical: format!("{canonical}{array}"),
                    serial: None,
                    user_type: Some((schema, name)),
                });
            }
        }
    };
    Ok(ParsedType {
        canonical: format!("{canonical}{array}"),
        serial: None,
        user_type: None,
    })
}

fn timelike(name: &str, mods: &Option<String>, zone: &str) -> String {
    match mods {
        Some(p) => format!("{name}({p}) {zone}"),
        None => format!("{name} {zone}"),
    }
}

/// `schema.name`, `"Schema"."Name"` or `name` (schema public). Unquoted parts fold to lower case.
pub fn split_qualified(s: &str) -> Result<(String, String), String> {
    let parts = split_ident_path(s)?;
    match parts.len() {
        1 => Ok(("public".into(), parts[0].clone())),
        2 => Ok((parts[0].clone(), parts[1].clone())),
        _ => Err(format!(
            "`{s}` has too many dots; expected `name` or `schema.name`"
        )),
    }
}

/// Split a dotted identifier path; double-quoted parts keep their case, others fold to lower case.
pub fn split_ident_path(s: &str) -> Result<Vec<String>, String> {
    let parts = ident_parts(s, true)?;
    if parts.iter().any(String::is_empty) {
        return Err(format!("empty name in `{s}`"));
    }
    Ok(parts)
}

/// The parts of a dotted name: a part in double quotes is taken as written
/// (`""` for a quote) and may hold dots; the others are folded to lower case
/// and trimmed as SQL does with `fold`, or kept exactly as written (the keys
/// of the files) without. A part may be empty.
pub fn ident_parts(s: &str, fold: bool) -> Result<Vec<String>, String> {
    if !s.contains('"') && !fold {
        return Ok(s.split('.').map(str::to_string).collect());
    }
    let mut parts = Vec::new();
    let text = if fold { s.trim() } else { s };
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(format!("unterminated quote in `{s}`")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' || (!fold && c == '"') {
                    break;
                }
                part.push(if fold { c.to_ascii_lowercase() } else { c });
                chars.next();
            }
            if fold {
                part = part.trim().to_string();
            }
        }
        parts.push(part);
        match chars.next() {
            Some('.') => continue,
            None => break,
            Some(c) => {
                return Err(format!(
                "unexpected `{c}` in `{s}`: a quoted part ends the part, as in `\"my.schema\".t`"
            ))
            }
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(t: &str) -> String {
        parse_type(t).unwrap().canonical
    }

    #[test]
    fn aliases_compare_equal() {
        assert_eq!(canon("int4"), "integer");
        assert_eq!(canon("INT"), "integer");
        assert_eq!(canon("varchar(20)"), "character varying(20)");
        assert_eq!(canon("character varying(20)"), "character varying(20)");
        assert_eq!(canon("timestamptz"), "timestamp with time zone");
        assert_eq!(canon("timestamptz(3)"), "timestamp(3) with time zone");
        assert_eq!(
            canon("timestamp(3) with time zone"),
            "timestamp(3) with time zone"
        );
        assert_eq!(canon("timestamp"), "timestamp without time zone");
        assert_eq!(canon("numeric(12, 2)"), "numeric(12,2)");
        assert_eq!(canon("decimal"), "numeric");
        assert_eq!(canon("numeric(10)"), "numeric(10,0)");
        assert_eq!(canon("text[]"), "text[]");
        assert_eq!(canon("int[][]"), "integer[]");
        assert_eq!(canon("char"), "character(1)");
        assert_eq!(canon("float"), "double precision");
        assert_eq!(canon("float(10)"), "real");
        assert_eq!(canon("bool"), "boolean");
        assert_eq!(canon("appointment_status"), "appointment_status");
        assert_eq!(canon("auth.factor_type"), "auth.factor_type");
        assert_eq!(canon("public.mood"), "mood");
        assert_eq!(canon("\"Mood\""), "\"Mood\"");
    }

    #[test]
    fn interval_fields_as_format_type_prints_them() {
        assert_eq!(
            canon("INTERVAL DAY TO SECOND(2)"),
            "interval day to second(2)"
        );
        assert_eq!(canon("interval  year to month"), "interval year to month");
        assert_eq!(canon("interval hour[]"), "interval hour[]");
        assert_eq!(canon("interval second (3)"), "interval second(3)");
        assert_eq!(canon("interval(3)"), "interval(3)");
        assert!(parse_type("interval day to hour(2)").is_err());
        assert!(parse_type("interval week").is_err());
    }

    #[test]
    fn serial_is_integer_with_a_flag() {
        let t = parse_type("bigserial").unwrap();
        assert_eq!(t.canonical, "bigint");
        assert_eq!(t.serial, Some("bigserial"));
        assert!(parse_type("serial[]").is_err());
    }

    #[test]
    fn bad_modifiers_are_errors() {
        assert!(parse_type("varchar(abc)").is_err());
        assert!(parse_type("text(5)").is_err());
        assert!(parse_type("int(").is_err());
    }
}
