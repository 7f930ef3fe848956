//! Text made safe for an operator's terminal ([`printable`]): what devices supplied (device
//! names, refusal reasons naming pushed ids) is shown with its control and non-printing
//! characters escaped. Used by [`crate::admin`] (which re-exports it) and by [`crate::auth`]
//! (which refuses device names that would not print as they are); it uses neither.

/// Text made safe for a terminal: control characters and other non-printing ones (format
/// characters such as bidirectional overrides, separators, unassigned code points) are shown
/// as escapes (`\u{1b}`, `\r`, `\n`, `\t`); backslashes are doubled so that an escape
/// in the output always means an escaped character. Printable text, Chinese included, is
/// kept as it is.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            // Quotes are printable; `escape_debug` would escape them for Rust literals.
            '"' | '\'' => out.push(c),
            // `escape_debug` escapes exactly what the standard library deems not printable.
            c => out.extend(c.escape_debug()),
        }
    }
    out
}

/// A tab-separated table made safe for a terminal: every field through [`printable`], the
/// tabs and line ends between fields kept.
pub fn printable_table(table: &str) -> String {
    table
        .split('\n')
        .map(|line| {
            line.split('\t')
                .map(printable)
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// True for a character [`printable`] shows as it is (backslash and quotes count as printable).
pub fn printable_char(c: char) -> bool {
    matches!(c, '\\' | '"' | '\'') || c.escape_debug().count() == 1
}
