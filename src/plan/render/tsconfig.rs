//! Render a new text search configuration: `CREATE TEXT SEARCH
//! CONFIGURATION ... (PARSER = ...)`, which makes it without mappings, then
//! `ALTER TEXT SEARCH CONFIGURATION ... ADD MAPPING FOR ... WITH ...` for each
//! group of token types that share their dictionaries. Made with the
//! collations, before the types and tables whose expressions may name it
//! (`to_tsvector('english_nostop', body)` resolves the name when made).

use super::{comment_stmt, Statement};
use crate::model::TsConfig;
use crate::plan::diff::CommentTarget;

/// The statements that make `c`: ids `create-ts-config:s.name` and
/// `add-ts-mapping:s.name.token,token`, then its comment.
pub(super) fn push_ts_config(out: &mut Vec<Statement>, c: &TsConfig) {
    out.push(
        Statement::new(
            format!("create-ts-config:{}", c.name),
            c.create_sql(),
            None,
            "none",
        )
        .from(&c.origin),
    );
    for (tokens, sql) in c.mapping_groups() {
        out.push(
            Statement::new(
                format!("add-ts-mapping:{}.{}", c.name, tokens.join(",")),
                sql,
                None,
                "none",
            )
            .from(&c.origin),
        );
    }
    if let Some(cm) = &c.comment {
        out.push(comment_stmt(&CommentTarget::TsConfig(c.name.clone()), cm));
    }
}
