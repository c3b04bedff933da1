//! The house one can read: no module of a crate imports, through any chain, a module that
//! imports it back. Reads the sources (`crate::…`, `super::…` and a module's own children
//! named by a relative path, outside comments and test modules) and looks for circles. A
//! submodule's use of its own ancestors is not counted: it is a part of them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `graphql/query.rs` → `graphql/query`, `graphql/mod.rs` → `graphql`, `lib.rs` → ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(src)
        .expect("below src")
        .with_extension("");
    let name = rel.to_string_lossy().replace('\\', "/");
    match name.as_str() {
        "lib" | "main" => String::new(),
        n => n.strip_suffix("/mod").unwrap_or(n).to_owned(),
    }
}

/// The longest prefix of `parts` that names a module of the crate.
fn resolve(modules: &BTreeSet<String>, parts: &[&str]) -> Option<String> {
    (1..=parts.len())
        .rev()
        .map(|k| parts[..k].join("/"))
        .find(|m| modules.contains(m))
}

/// Paths like `a::b::c` that follow `prefix` in `code`.
fn paths_after<'a>(code: &'a str, prefix: &str) -> Vec<Vec<&'a str>> {
    code.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(rest.len());
            rest[..end].split("::").filter(|p| !p.is_empty()).collect()
        })
        .collect()
}

fn edges(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(src, file);
        // Migrations and entities are leaves generated in the sea-orm style.
        if module.is_empty() || module.contains("migration/") || module.contains("entities/") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read");
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let parent: Vec<&str> = match module.rsplit_once('/') {
            Some((p, _)) => p.split('/').collect(),
            None => Vec::new(),
        };
        let mut deps = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            deps.extend(resolve(&modules, &path));
        }
        for path in paths_after(&code, "super::") {
            let mut full = parent.clone();
            full.extend(path);
            deps.insert(resolve(&modules, &full).unwrap_or_else(|| parent.join("/")));
        }
        // A module's own children, named by a relative path (`query::Query`).
        let prefix = if module.is_empty() {
            String::new()
        } else {
            format!("{module}/")
        };
        for child in modules.iter().filter_map(|m| m.strip_prefix(&prefix)) {
            if child.contains('/') {
                continue;
            }
            let named = code.match_indices(&format!("{child}::")).any(|(i, _)| {
                !code[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if named {
                deps.insert(format!("{prefix}{child}"));
            }
        }
        // A submodule is a part of its parent (it sees the parent's private items, the
        // usual way of splitting a long module into files): its use of an ancestor is no
        // import. Everything else counts, the parent's use of its parts included.
        deps.retain(|d| !module.starts_with(&format!("{d}/")));
        deps.remove(&module);
        deps.remove("");
        graph.insert(module, deps);
    }
    graph
}

/// A circle through `start`, if any (depth-first).
fn circle(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_owned(), vec![start.to_owned()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == start {
                let mut c = path.clone();
                c.push(start.to_owned());
                return Some(c);
            }
            if seen.insert(next.clone()) {
                let mut p = path.clone();
                p.push(next.clone());
                stack.push((next.clone(), p));
            }
        }
    }
    None
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["domain", "persistence", "gateway"] {
        let graph = edges(&root.join("crates").join(krate).join("src"));
        assert!(graph.len() > 5, "{krate}: modules found: {graph:?}");
        assert!(
            graph.values().map(BTreeSet::len).sum::<usize>() > 5,
            "{krate}: imports found"
        );
        for module in graph.keys() {
            if let Some(c) = circle(&graph, module) {
                panic!(
                    "{krate}: modules import each other in a circle: {}",
                    c.join(" → ")
                );
            }
        }
    }
}

#[test]
fn the_circle_finder_finds_a_circle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    graph.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    graph.insert("d".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        circle(&graph, "a"),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    assert_eq!(circle(&graph, "d"), None);
}
