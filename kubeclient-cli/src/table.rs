//! kubectl's human-readable tables: server-side `meta.k8s.io/v1` `Table`s printed through a
//! writer that aligns columns the way kubectl's Go `tabwriter` does (minimum width 6, three
//! spaces of padding, the last column never padded, widths remembered from one flush to the
//! next so watch rows line up under the header).

use serde_json::Value;

/// The `Accept` header kubectl sends for server-side printing.
pub const TABLE_ACCEPT: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,\
application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

const MIN_WIDTH: usize = 6;
const PADDING: usize = 3;

/// Lines of cells, aligned on flush; column widths only grow between flushes.
#[derive(Default)]
pub struct TableWriter {
    widths: Vec<usize>,
    lines: Vec<Vec<String>>,
}

impl TableWriter {
    /// Adds a line of cells.
    pub fn push(&mut self, cells: Vec<String>) {
        self.lines.push(cells);
    }

    /// The aligned text of the lines pushed since the last flush.
    pub fn flush(&mut self) -> String {
        for line in &self.lines {
            // The last cell of a line is not in a column: it is never padded.
            for (i, cell) in line.iter().take(line.len().saturating_sub(1)).enumerate() {
                if self.widths.len() <= i {
                    self.widths.push(MIN_WIDTH);
                }
                let w = cell.len() + PADDING;
                if w > self.widths[i] {
                    self.widths[i] = w;
                }
            }
        }
        let mut out = String::new();
        for line in std::mem::take(&mut self.lines) {
            let last = line.len().saturating_sub(1);
            for (i, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if i < last {
                    let width = self.widths.get(i).copied().unwrap_or(MIN_WIDTH);
                    out.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.len())));
                }
            }
            out.push('\n');
        }
        out
    }

    /// Forgets the remembered widths (a new table starts).
    pub fn reset(&mut self) {
        self.widths.clear();
        self.lines.clear();
    }
}

/// How to print a table's rows.
#[derive(Clone, Copy, Default)]
pub struct TableOptions<'a> {
    /// Show columns of priority above 0.
    pub wide: bool,
    /// Add a first NAMESPACE column from each row's object.
    pub with_namespace: bool,
    /// Prefix names with `kind[.group]/` (several resource types in one command).
    pub kind_prefix: Option<&'a str>,
}

/// The visible column definitions of `table`: (index, header).
fn visible_columns(table: &Value, options: TableOptions<'_>) -> Vec<(usize, String)> {
    let defs = table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    defs.iter()
        .enumerate()
        .filter(|(_, d)| {
            options.wide || d.get("priority").and_then(Value::as_i64).unwrap_or(0) == 0
        })
        .map(|(i, d)| {
            let name = d.get("name").and_then(Value::as_str).unwrap_or("");
            (i, name.to_uppercase())
        })
        .collect()
}

/// The header line's cells.
pub fn header(table: &Value, options: TableOptions<'_>) -> Vec<String> {
    let mut cells = Vec::new();
    if options.with_namespace {
        cells.push("NAMESPACE".to_string());
    }
    cells.extend(visible_columns(table, options).into_iter().map(|(_, h)| h));
    cells
}

/// The rows' cells.
pub fn rows(table: &Value, options: TableOptions<'_>) -> Vec<Vec<String>> {
    let columns = visible_columns(table, options);
    let name_column = table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .and_then(|defs| {
            defs.iter()
                .position(|d| d.get("name").and_then(Value::as_str) == Some("Name"))
        });
    let rows = table
        .get("rows")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    rows.iter()
        .map(|row| {
            let cells = row
                .get("cells")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut line = Vec::new();
            if options.with_namespace {
                let ns = row
                    .pointer("/object/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                line.push(ns.to_string());
            }
            for (i, _) in &columns {
                let mut text = cells.get(*i).map(cell_text).unwrap_or_default();
                if let (Some(prefix), Some(n)) = (options.kind_prefix, name_column)
                    && n == *i
                {
                    text = format!("{prefix}/{text}");
                }
                line.push(text);
            }
            line
        })
        .collect()
}

/// Number of rows in a table.
pub fn row_count(table: &Value) -> usize {
    table
        .get("rows")
        .and_then(Value::as_array)
        .map_or(0, Vec::len)
}

/// A cell as kubectl prints it: strings up to the first line break, numbers and booleans as
/// Go's `fmt.Sprint`, nothing for null.
fn cell_text(cell: &Value) -> String {
    match cell {
        Value::Null => String::new(),
        Value::String(s) => s
            .split(['\n', '\r', '\x0c'])
            .next()
            .unwrap_or_default()
            .to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_like_tabwriter() {
        let mut w = TableWriter::default();
        w.push(vec!["NAME".into(), "DATA".into(), "AGE".into()]);
        w.push(vec!["kube-root-ca.crt".into(), "1".into(), "5m".into()]);
        assert_eq!(
            w.flush(),
            "NAME               DATA   AGE\nkube-root-ca.crt   1      5m\n"
        );
        w.push(vec!["x".into(), "22".into(), "1s".into()]);
        assert_eq!(w.flush(), "x                  22     1s\n");
    }

    #[test]
    fn hides_priority_columns_unless_wide() {
        let table = serde_json::json!({
            "columnDefinitions": [
                {"name": "Name", "priority": 0},
                {"name": "Images", "priority": 1}
            ],
            "rows": [{"cells": ["a", "img"], "object": {"metadata": {"namespace": "ns"}}}]
        });
        let narrow = TableOptions::default();
        assert_eq!(header(&table, narrow), vec!["NAME"]);
        let wide = TableOptions {
            wide: true,
            with_namespace: true,
            kind_prefix: Some("pod"),
        };
        assert_eq!(header(&table, wide), vec!["NAMESPACE", "NAME", "IMAGES"]);
        assert_eq!(rows(&table, wide), vec![vec!["ns", "pod/a", "img"]]);
    }
}
