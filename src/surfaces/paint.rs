//! Colour for the text printers' output, line by line: added statements
//! green, refused changes red, hazards and waits yellow, headers bold.
//!
//! The printers (`report`) stay plain; the command line passes their text
//! through [`text`] and writes it with `anstream`, which drops the codes
//! unless colour is on (a terminal, `--color always`; never with `NO_COLOR`).
//! Only escape sequences of SGR (`ESC [ ... m`) are added, never other text.

use anstyle::{AnsiColor, Style};

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const RED_BOLD: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// `error:` in bold red.
pub fn error_label() -> String {
    format!("{RED_BOLD}error:{RED_BOLD:#}")
}

/// Where a line stands in the printers' output.
#[derive(Clone, Copy, PartialEq)]
enum Section {
    /// Statements to run (or a prune's drops), and anything else.
    Plan,
    /// Under `Refused (N)`: the findings, their diffs and safe paths.
    Refused,
    /// Under `Unmanaged (N)` or `Warnings (N)`.
    Kept,
}

/// `text` with colour codes around its lines (the text itself unchanged):
///
/// - a statement to run (`+ ...`, and the lines of its SQL that follow) green;
///   a prune's drop (`- ...`) red; its `[lock ...]` line dim, yellow when it
///   names a hazard; a `! ...` hazard yellow;
/// - under `Refused`: each rule line bold red, the database's side of a diff
///   red and the files' side green;
/// - `Unmanaged`, `Warnings`, `advice:`, lock waits and timeouts yellow;
/// - `  ok ...` lines of an apply green; the headline, `Summary:` and
///   `Plan hash:` (every line that starts a section) bold; `error:` bold red.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut section = Section::Plan;
    // Inside a statement's SQL (the lines after `+ `, indented deeper).
    let mut in_statement: Option<Style> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let trimmed = body.trim_start();
        let indent = body.len() - trimmed.len();
        if !body.starts_with(' ') && !body.is_empty() {
            section = if body.starts_with("Refused") {
                Section::Refused
            } else if body.starts_with("Unmanaged") || body.starts_with("Warnings") {
                Section::Kept
            } else {
                Section::Plan
            };
            in_statement = None;
        }
        let style = if body.is_empty() {
            None
        } else if !body.starts_with(' ') {
            Some(match section {
                Section::Refused => RED_BOLD,
                Section::Kept => YELLOW.bold(),
                Section::Plan if body.starts_with("error:") => RED_BOLD,
                Section::Plan => BOLD,
            })
        } else {
            match section {
                Section::Refused => {
                    if indent == 2 {
                        Some(RED_BOLD)
                    } else if trimmed.starts_with("---") || trimmed.starts_with("+++") {
                        Some(DIM)
                    } else if trimmed.starts_with('-') {
                        Some(RED)
                    } else if trimmed.starts_with('+') {
                        Some(GREEN)
                    } else {
                        None
                    }
                }
                Section::Kept => Some(YELLOW),
                Section::Plan => {
                    if trimmed.starts_with("+ ") {
                        in_statement = Some(GREEN);
                        Some(GREEN)
                    } else if trimmed.starts_with("- ") {
                        in_statement = Some(RED);
                        Some(RED)
                    } else if trimmed.starts_with('[') {
                        in_statement = None;
                        let hazard = trimmed.contains("blocks")
                            || trimmed.contains("rewrites")
                            || trimmed.contains("scans")
                            || trimmed.contains("waits");
                        Some(if hazard { YELLOW } else { DIM })
                    } else if trimmed.starts_with("! ")
                        || trimmed.starts_with("advice:")
                        || trimmed.starts_with("lock timeout")
                        || trimmed.starts_with("waiting for")
                    {
                        in_statement = None;
                        Some(YELLOW)
                    } else if trimmed.starts_with("with --online") {
                        in_statement = None;
                        Some(DIM)
                    } else if trimmed.starts_with("ok ") {
                        Some(GREEN)
                    } else if trimmed.starts_with("error:") {
                        Some(RED_BOLD)
                    } else if indent >= 6 {
                        in_statement
                    } else {
                        in_statement = None;
                        None
                    }
                }
            }
        };
        match style {
            Some(s) => {
                out.push_str(&format!("{s}{body}{s:#}"));
                out.push_str(&line[body.len()..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text without colour codes: what anstream writes when colour is off.
    fn plain(s: &str) -> String {
        anstream::adapter::strip_str(s).to_string()
    }

    const PLAN: &str = "Plan against host=h\n\n  table t\n    + CREATE TABLE public.t (\n          id bigint\n      )\n      [lock SHARE; blocks writes while it builds; 8 kB]\n      ! may fail on existing rows\n\nRefused (1): nothing will be applied while any change is refused\n  R003 type change: column t.id (t.toml:3:1)\n    column `t.id` is `integer`\n    --- database\n    +++ files\n    -integer\n    +bigint\n    safe path: Add a new column.\n\nUnmanaged (1): in the database, not in the files; kept, never dropped\n    table old\n\nSummary: 1 statement to run\nPlan hash: abc\n";

    #[test]
    fn colour_changes_no_character_of_the_text() {
        assert_eq!(plain(&text(PLAN)), PLAN);
        assert_eq!(plain(&text("no newline at end")), "no newline at end");
    }

    #[test]
    fn statements_green_refusals_red_hazards_yellow() {
        let painted = text(PLAN);
        let line_of = |needle: &str| {
            painted
                .lines()
                .find(|l| l.contains(needle))
                .unwrap()
                .to_string()
        };
        let green = GREEN.render().to_string();
        let red = RED.render().to_string();
        let red_bold = RED_BOLD.render().to_string();
        let yellow = YELLOW.render().to_string();
        assert!(line_of("CREATE TABLE").starts_with(&green));
        assert!(line_of("id bigint").starts_with(&green));
        assert!(painted.contains(&format!("{green}      ){}", GREEN.render_reset())));
        assert!(line_of("R003").starts_with(&red_bold));
        assert!(line_of("-integer").starts_with(&red));
        assert!(line_of("+bigint").starts_with(&green));
        assert!(line_of("may fail").starts_with(&yellow));
        assert!(line_of("[lock SHARE").starts_with(&yellow));
        assert!(line_of("table old").starts_with(&yellow));
        assert!(!line_of("safe path").contains('\u{1b}'));
    }

    #[test]
    fn lock_waits_and_timeouts_yellow() {
        let yellow = YELLOW.render().to_string();
        let waiting = "  waiting for a lock on people held by pid 29245 (app: web, idle in transaction, 3.2 s)\n";
        assert!(text(waiting).starts_with(&yellow), "{:?}", text(waiting));
        let advice = "  advice: pid 29245 (app: web) holds it: end it with SELECT pg_terminate_backend(29245)\n";
        assert!(text(advice).starts_with(&yellow), "{:?}", text(advice));
        assert_eq!(plain(&text(waiting)), waiting);
    }
}
