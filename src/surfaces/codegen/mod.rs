//! Code generated from the schema files, so that an ORM's schema never
//! drifts from them: `drizzle` (the Drizzle ORM schema of a Node.js app).
//! `reconcile codegen drizzle` writes it; `reconcile check --drizzle FILE`
//! fails when FILE is not what the files generate now.

pub mod drizzle;

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::desired::load;
use crate::surfaces::check::{self, Base, CheckReport, OutOfDate};
use crate::Error;

/// A directory as the generated header and the messages name it: the path
/// as given without `.` parts or a trailing `/` (`./schema/` → `schema`),
/// so that the same directory spelled two ways generates the same bytes.
pub fn source_name(dir: &Path) -> String {
    let parts: PathBuf = dir
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let s = parts.display().to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// The Drizzle schema (TypeScript) of the files of `schema_dir`, loaded as
/// `plan` loads them (no database). Errors: the files' own (exit 2).
pub fn drizzle_schema(schema_dir: &Path) -> Result<String, Error> {
    let cat = load::load_dir(schema_dir)?;
    Ok(drizzle::render(&cat, &source_name(schema_dir)))
}

/// Write `text` to `out` atomically: into a temporary file beside it, then
/// renamed over it, so that a reader sees the old file or the new one,
/// never half of one. Parent directories are created. A file that already
/// holds `text` is left as it is (its modification time too). Errors: the
/// file system's, naming the path (operational, exit 1).
pub fn write_atomically(out: &Path, text: &str) -> Result<(), Error> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        Error::Other(format!("cannot {what} {}: {e}", p.display()))
    };
    if std::fs::read(out).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| fail("create the directory", &parent, e))?;
    let file_name = out
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--out {}: expected a file name", out.display())))?;
    let tmp = parent.join(format!(
        ".{}.reconcile-{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| fail("write", &tmp, e))
        .and_then(|()| std::fs::rename(&tmp, out).map_err(|e| fail("replace", out, e)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A path in a shell command: as is when it is plain, else in single quotes.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:@+=".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Compare the Drizzle schema in `file` with what the files of `schema_dir`
/// generate now. Out: `None` when they are the same bytes, else what is out
/// of date (a file that does not exist is). Errors: invalid schema files
/// (exit 2), a file that exists but cannot be read (exit 1).
pub fn check_drizzle(schema_dir: &Path, file: &Path) -> Result<Option<OutOfDate>, Error> {
    let fresh = drizzle_schema(schema_dir)?;
    let command = format!(
        "reconcile codegen drizzle --schema {} --out {}",
        shell_word(&source_name(schema_dir)),
        shell_word(&file.display().to_string())
    );
    let name = file.display().to_string();
    let (line, why) = match std::fs::read(file) {
        Ok(old) if old == fresh.as_bytes() => return Ok(None),
        Ok(old) => {
            let old = String::from_utf8_lossy(&old);
            let mut old_lines = old.split_inclusive('\n');
            let line = fresh
                .split_inclusive('\n')
                .position(|l| old_lines.next() != Some(l))
                .unwrap_or(fresh.split_inclusive('\n').count())
                + 1;
            (line, format!("it differs from line {line} on"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (0, "it does not exist".to_string()),
        Err(e) => return Err(Error::Other(format!("cannot read {name}: {e}"))),
    };
    Ok(Some(OutOfDate {
        message: format!("{name} is out of date ({why}): run {command}"),
        file: name,
        line,
        command,
    }))
}

/// `reconcile check`: the guard against `base` when one is given (see
/// `check::check`), else a report of the files alone; then, with `drizzle`,
/// the Drizzle schema in that file compared with what the files generate
/// (out of date: the report fails, exit 3). Errors: as `check::check`, and
/// as `check_drizzle`.
pub async fn check_with_generated(
    schema_dir: &Path,
    base: Option<&Base>,
    exclude: &[crate::model::exclude::Pattern],
    drizzle: Option<&Path>,
) -> Result<CheckReport, Error> {
    let mut report = match base {
        Some(base) => check::check(schema_dir, base, exclude).await?,
        None => {
            // The files alone: still validated (and their exclude patterns).
            let mut files = load::load_dir(schema_dir)?;
            load::add_exclude(&mut files, exclude)?;
            CheckReport::files_only(schema_dir)
        }
    };
    if let Some(file) = drizzle {
        report.out_of_date.extend(check_drizzle(schema_dir, file)?);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_do_not_depend_on_the_spelling() {
        assert_eq!(source_name(Path::new("./schema/")), "schema");
        assert_eq!(source_name(Path::new("schema")), "schema");
        assert_eq!(source_name(Path::new("./")), ".");
        assert_eq!(source_name(Path::new("a/./b")), "a/b");
    }

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("shared/schema.ts"), "shared/schema.ts");
        assert_eq!(shell_word("my dir/x.ts"), "'my dir/x.ts'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
