//! The layer rule of ARCHITECTURE.md, checked over the `crate::` paths in `backend/src`: each
//! top-level module belongs to one layer and names only modules of its own layer or below, the
//! top-level modules import one another without a cycle, the routes do not import routes, and
//! only the store names the database driver.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom up. `main.rs` and `lib.rs` are the top and may use anything.
const LAYERS: &[(&str, &[&str])] = &[
    ("foundation", &["time", "config", "auth", "tls"]),
    ("store", &["store"]),
    ("core", &["core"]),
    (
        "routes",
        &["routes", "extract", "gatekeeper", "error", "openapi"],
    ),
    ("app", &["app", "csp"]),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read backend/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate roots).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "main" | "lib")).then(|| name.to_owned())
}

/// Every `crate::a` and `crate::a::b` a file names.
fn crate_paths(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        // `$crate::` in macros and `gatehouse_crate::` are not ours.
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &text[at + "crate::".len()..];
        let word = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        let first = word(rest);
        let second = rest
            .strip_prefix(first.as_str())
            .and_then(|r| r.strip_prefix("::"))
            .map(word)
            .filter(|w| !w.is_empty());
        if !first.is_empty() {
            found.push((first, second));
        }
    }
    found
}

struct Graph {
    /// top module → the top modules it names, with one file that does.
    edges: BTreeMap<String, BTreeMap<String, String>>,
    /// route submodule → route submodules it names.
    route_edges: BTreeSet<(String, String, String)>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut route_edges = BTreeSet::new();
    for file in files {
        let Some(top) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        let shown = file.strip_prefix(&src).unwrap().display().to_string();
        let own_route = (top == "routes")
            .then(|| file.strip_prefix(src.join("routes")).ok())
            .flatten()
            .and_then(|rel| rel.components().next())
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_owned());
        for (first, second) in crate_paths(&text) {
            if first != top {
                edges
                    .entry(top.clone())
                    .or_default()
                    .entry(first.clone())
                    .or_insert_with(|| shown.clone());
            }
            if let (Some(own), "routes", Some(other)) = (&own_route, first.as_str(), second) {
                // `routes/mod.rs` holds the helpers every route shares (paging).
                if own != "mod" && *own != other && other != "page_limit" {
                    route_edges.insert((own.clone(), other, shown.clone()));
                }
            }
        }
    }
    Graph { edges, route_edges }
}

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|(_, members)| members.contains(&module))
        .unwrap_or_else(|| {
            panic!("module crate::{module} is in no layer: add it to LAYERS and ARCHITECTURE.md")
        })
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let graph = graph();
    let mut violations = Vec::new();
    for (from, targets) in &graph.edges {
        for (to, file) in targets {
            if layer_of(to) > layer_of(from) {
                violations.push(format!(
                    "{file}: crate::{from} ({}) names crate::{to} ({})",
                    LAYERS[layer_of(from)].0,
                    LAYERS[layer_of(to)].0
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let graph = graph();
    // Depth-first search for a back edge; report the cycle it closes.
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.edges.get(node).into_iter().flat_map(|t| t.keys()) {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.edges.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn routes_do_not_import_other_routes() {
    let graph = graph();
    let violations: Vec<String> = graph
        .route_edges
        .iter()
        .map(|(from, to, file)| format!("{file}: routes::{from} names routes::{to}"))
        .collect();
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The database driver is the store's business: a second engine is then a change inside
/// `store/`, not across the code base.
#[test]
fn no_module_outside_the_store_names_the_database_driver() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let store = src.join("store");
    let violations: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&store))
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).expect("read source");
            text.lines()
                .enumerate()
                .filter(|(_, line)| names_the_driver(line))
                .map(|(n, line)| format!("{}:{}: {}", f.display(), n + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

fn names_the_driver(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    ["sqlx::", "use sqlx", "Sqlite", "SqlitePool"]
        .iter()
        .any(|name| code.contains(name))
}

#[test]
fn the_driver_scanner_sees_paths_and_types_but_not_comments() {
    assert!(names_the_driver("use sqlx::SqlitePool;"));
    assert!(names_the_driver("fn f(c: &mut SqliteConnection) {}"));
    assert!(!names_the_driver("// sqlx::query is the store's"));
    assert!(!names_the_driver(r#"let filter = "info,sqlx=warn";"#));
}

/// The checker itself finds what it is meant to find.
#[test]
fn the_path_scanner_reads_crate_paths_and_skips_macro_ones() {
    let text = "use crate::core::state::AppState;\nlet x = $crate::foo; use crate::time;";
    assert_eq!(
        crate_paths(text),
        vec![
            ("core".to_owned(), Some("state".to_owned())),
            ("time".to_owned(), None)
        ]
    );
}
