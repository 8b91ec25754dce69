#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! No import circle between the files of `filter/src`. The file-level graph has an edge
//! A → B when A names something of B: a `use` (`crate::…`, `super::…`, `self::…` or a
//! child module), or an inline `crate::`/`super::`/`self::` path. `mod` declarations
//! only place files in the module tree (a parent declaring a child is no dependency), a
//! name re-exported or imported by a module is followed to the file that defines it, and
//! `#[cfg(test)]` modules are left out (a test may reach its file through the crate root).
//! A circle makes files impossible to read, test or move one at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
    /// `::`
    Sep,
}

/// Rust source → tokens, without comments, char literals and lifetimes.
fn tokens(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (b.get(i + 1) == Some(&'#') || b.get(i + 1) == Some(&'"')) {
            // Raw string r#"…"# (or r"…"); `r#ident` raw identifiers are taken as idents.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                let start = j;
                while j < b.len() && (b[j].is_alphanumeric() || b[j] == '_') {
                    j += 1;
                }
                out.push(Tok::Ident(b[start..j].iter().collect()));
                i = j;
                continue;
            }
            j += 1;
            let start = j;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    break;
                }
                j += 1;
            }
            out.push(Tok::Str(b[start..j.min(b.len())].iter().collect()));
            i = j + 1 + hashes;
        } else if c == '"' || (c == 'b' && b.get(i + 1) == Some(&'"')) {
            let mut j = if c == 'b' { i + 2 } else { i + 1 };
            let start = j;
            while j < b.len() && b[j] != '"' {
                if b[j] == '\\' {
                    j += 1;
                }
                j += 1;
            }
            out.push(Tok::Str(b[start..j.min(b.len())].iter().collect()));
            i = j + 1;
        } else if c == 'b'
            && b.get(i + 1) == Some(&'r')
            && b.get(i + 2).is_some_and(|&x| x == '"' || x == '#')
        {
            i += 1; // br"…": the raw-string branch takes it from the `r`
        } else if c == '\'' || (c == 'b' && b.get(i + 1) == Some(&'\'')) {
            let j = if c == 'b' { i + 1 } else { i };
            if b.get(j + 1) == Some(&'\\') {
                let mut k = j + 2;
                while k < b.len() && b[k] != '\'' {
                    k += 1;
                }
                i = k + 1;
            } else if b.get(j + 2) == Some(&'\'') {
                i = j + 3;
            } else {
                i = j + 1; // a lifetime: its name follows as an ident
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '.') {
                if b[i] == '.' && b.get(i + 1) == Some(&'.') {
                    break;
                }
                i += 1;
            }
        } else if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok::Sep);
            i += 2;
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

struct Module {
    file: usize,
    parent: Option<usize>,
    /// Where `mod x;` inside this module looks for `x.rs` / `x/mod.rs`.
    child_dir: PathBuf,
    children: BTreeMap<String, usize>,
    /// `use` bindings: name → path (relative to this module).
    aliases: BTreeMap<String, Vec<String>>,
    /// Compiled for tests only: what it names is no dependency of the filter.
    test: bool,
}

struct Crate {
    root: PathBuf,
    files: Vec<PathBuf>,
    modules: Vec<Module>,
    /// Per file: (module the reference is made from, path) for every use and inline path.
    refs: Vec<(usize, usize, Vec<String>)>,
}

fn ident(t: Option<&Tok>) -> Option<&str> {
    match t {
        Some(Tok::Ident(s)) => Some(s),
        _ => None,
    }
}

/// A `use` tree starting at `toks[i]` → full paths (`self` in a group names the prefix).
fn use_tree(
    toks: &[Tok],
    i: &mut usize,
    prefix: Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
) {
    let mut path = prefix;
    loop {
        match toks.get(*i) {
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Tok::Punct('}')) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        None => return,
                        _ => use_tree(toks, i, path.clone(), out),
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push(("*".into(), path));
                return;
            }
            Some(Tok::Ident(s)) => {
                let s = s.clone();
                *i += 1;
                if s == "self" && !path.is_empty() && toks.get(*i) != Some(&Tok::Sep) {
                    let name = path.last().cloned().unwrap();
                    let name = rename(toks, i).unwrap_or(name);
                    out.push((name, path));
                    return;
                }
                path.push(s.clone());
                if toks.get(*i) == Some(&Tok::Sep) {
                    *i += 1;
                    continue;
                }
                let name = rename(toks, i).unwrap_or(s);
                out.push((name, path));
                return;
            }
            _ => return,
        }
    }
}

fn rename(toks: &[Tok], i: &mut usize) -> Option<String> {
    if ident(toks.get(*i)) == Some("as") {
        let name = ident(toks.get(*i + 1)).map(str::to_string);
        *i += 2;
        return name;
    }
    None
}

impl Crate {
    fn load(root: &Path) -> Crate {
        let mut c = Crate {
            root: root.to_path_buf(),
            files: Vec::new(),
            modules: Vec::new(),
            refs: Vec::new(),
        };
        c.load_file(root.join("lib.rs"), None, root.to_path_buf(), false);
        c
    }

    fn load_file(
        &mut self,
        path: PathBuf,
        parent: Option<usize>,
        child_dir: PathBuf,
        test: bool,
    ) -> usize {
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let file = self.files.len();
        self.files.push(path.clone());
        let module = self.new_module(file, parent, child_dir, test);
        let toks = tokens(&src);
        // Stack of (module, brace depth at which it closes).
        let mut scopes: Vec<(usize, usize)> = vec![(module, 0)];
        let mut depth = 0usize;
        let mut path_attr: Option<String> = None;
        // The next item is `#[cfg(test)]`.
        let mut cfg_test = false;
        let mut i = 0;
        while i < toks.len() {
            let here = scopes.last().unwrap().0;
            match &toks[i] {
                Tok::Punct('{') => {
                    depth += 1;
                    cfg_test = false;
                    i += 1;
                }
                Tok::Punct(';') => {
                    cfg_test = false;
                    i += 1;
                }
                Tok::Punct('}') => {
                    if scopes.len() > 1 && scopes.last().unwrap().1 == depth {
                        scopes.pop();
                    }
                    depth = depth.saturating_sub(1);
                    i += 1;
                }
                Tok::Punct('#') => {
                    // #[path = "…"]
                    let mut j = i + 1;
                    if toks.get(j) == Some(&Tok::Punct('!')) {
                        j += 1;
                    }
                    if toks.get(j) == Some(&Tok::Punct('['))
                        && ident(toks.get(j + 1)) == Some("path")
                        && toks.get(j + 2) == Some(&Tok::Punct('='))
                    {
                        if let Some(Tok::Str(p)) = toks.get(j + 3) {
                            path_attr = Some(p.clone());
                        }
                    }
                    if toks.get(j) == Some(&Tok::Punct('['))
                        && ident(toks.get(j + 1)) == Some("cfg")
                        && toks.get(j + 2) == Some(&Tok::Punct('('))
                        && ident(toks.get(j + 3)) == Some("test")
                        && toks.get(j + 4) == Some(&Tok::Punct(')'))
                    {
                        cfg_test = true;
                    }
                    i += 1;
                }
                Tok::Ident(kw) if kw == "mod" => {
                    let Some(name) = ident(toks.get(i + 1)).map(str::to_string) else {
                        i += 1;
                        continue;
                    };
                    let test = self.modules[here].test || std::mem::take(&mut cfg_test);
                    match toks.get(i + 2) {
                        Some(Tok::Punct(';')) => {
                            let dir = self.modules[here].child_dir.clone();
                            let (file_path, grand_dir) = match path_attr.take() {
                                Some(p) => {
                                    let f = path.parent().unwrap().join(p);
                                    let d = f.with_extension("");
                                    (f, d)
                                }
                                None if dir.join(format!("{name}.rs")).exists() => {
                                    (dir.join(format!("{name}.rs")), dir.join(&name))
                                }
                                None => (dir.join(&name).join("mod.rs"), dir.join(&name)),
                            };
                            let child_file = self.files.len();
                            self.load_file(file_path, Some(here), grand_dir, test);
                            let child = self
                                .modules
                                .iter()
                                .position(|m| m.file == child_file)
                                .unwrap();
                            self.modules[here].children.insert(name, child);
                            i += 3;
                        }
                        Some(Tok::Punct('{')) => {
                            let dir = self.modules[here].child_dir.join(&name);
                            let inner = self.new_module(file, Some(here), dir, test);
                            self.modules[here].children.insert(name, inner);
                            depth += 1;
                            scopes.push((inner, depth));
                            i += 3;
                        }
                        _ => i += 1,
                    }
                    path_attr = None;
                }
                Tok::Ident(kw) if kw == "use" => {
                    i += 1;
                    if toks.get(i) == Some(&Tok::Sep) {
                        i += 1; // `use ::x`: another crate
                    }
                    let mut found = Vec::new();
                    use_tree(&toks, &mut i, Vec::new(), &mut found);
                    if std::mem::take(&mut cfg_test) {
                        continue;
                    }
                    for (name, p) in found {
                        if name != "*" && name != "_" {
                            self.modules[here].aliases.insert(name, p.clone());
                        }
                        self.refs.push((file, here, p));
                    }
                }
                Tok::Ident(kw)
                    if (kw == "crate"
                        || kw == "super"
                        || kw == "self"
                        || self.modules[here].children.contains_key(kw))
                        && toks.get(i + 1) == Some(&Tok::Sep)
                        && (i == 0 || toks.get(i - 1) != Some(&Tok::Sep)) =>
                {
                    let mut p = vec![kw.clone()];
                    i += 1;
                    while toks.get(i) == Some(&Tok::Sep) {
                        match toks.get(i + 1) {
                            Some(Tok::Ident(s)) => {
                                p.push(s.clone());
                                i += 2;
                            }
                            _ => break,
                        }
                    }
                    self.refs.push((file, here, p));
                }
                _ => i += 1,
            }
        }
        module
    }

    fn new_module(
        &mut self,
        file: usize,
        parent: Option<usize>,
        child_dir: PathBuf,
        test: bool,
    ) -> usize {
        self.modules.push(Module {
            file,
            parent,
            child_dir,
            children: BTreeMap::new(),
            aliases: BTreeMap::new(),
            test,
        });
        self.modules.len() - 1
    }

    /// The file defining what `path` names, seen from module `from`; None: another crate.
    fn resolve(&self, from: usize, path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 {
            return None;
        }
        let mut m = from;
        let mut rest = path;
        match path.first().map(String::as_str) {
            Some("crate") => {
                m = 0;
                rest = &path[1..];
            }
            Some("self") => rest = &path[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    m = self.modules[m].parent?;
                    rest = &rest[1..];
                }
            }
            Some(first) => {
                // A child module, a name this module imported, or another crate.
                if !self.modules[m].children.contains_key(first)
                    && !self.modules[m].aliases.contains_key(first)
                {
                    return None;
                }
            }
            None => return None,
        }
        for (k, seg) in rest.iter().enumerate() {
            if let Some(&child) = self.modules[m].children.get(seg) {
                m = child;
                continue;
            }
            if let Some(target) = self.modules[m].aliases.get(seg) {
                let mut full = target.clone();
                full.extend(rest[k + 1..].iter().cloned());
                if full.first().map(String::as_str) == Some(seg.as_str()) && full.len() == 1 {
                    return Some(self.modules[m].file);
                }
                return self
                    .resolve(m, &full, depth + 1)
                    .or(Some(self.modules[m].file));
            }
            return Some(self.modules[m].file);
        }
        Some(self.modules[m].file)
    }

    fn name(&self, file: usize) -> String {
        self.files[file]
            .strip_prefix(&self.root)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    fn graph(&self) -> Vec<BTreeSet<usize>> {
        let mut edges = vec![BTreeSet::new(); self.files.len()];
        for (file, from, path) in &self.refs {
            if self.modules[*from].test {
                continue;
            }
            if let Some(to) = self.resolve(*from, path, 0) {
                if to != *file {
                    edges[*file].insert(to);
                }
            }
        }
        edges
    }
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct T<'a> {
        edges: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in t.edges[v].iter() {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut scc = Vec::new();
            loop {
                let w = t.stack.pop().unwrap();
                t.on[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                t.out.push(scc);
            }
        }
    }
    let n = edges.len();
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
}

/// One concrete circle through the component's first file, for the message.
fn circle(edges: &[BTreeSet<usize>], scc: &[usize]) -> Vec<usize> {
    let start = scc[0];
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &edges[v] {
            if !scc.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![v];
                let mut at = v;
                while at != start {
                    at = prev[&at];
                    path.push(at);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

#[test]
fn no_import_circle_in_filter_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let krate = Crate::load(&src);
    let edges = krate.graph();
    let found = cycles(&edges);
    if std::env::var_os("SHOW_CYCLES").is_some() {
        for scc in &found {
            eprintln!(
                "{:?}",
                scc.iter().map(|&f| krate.name(f)).collect::<Vec<_>>()
            );
        }
    }
    let mut problems = Vec::new();
    for scc in &found {
        let names: BTreeSet<String> = scc.iter().map(|&f| krate.name(f)).collect();
        let path: Vec<String> = circle(&edges, scc).iter().map(|&f| krate.name(f)).collect();
        problems.push(format!(
            "import circle among {names:?}\n    e.g. {}",
            path.join(" → ")
        ));
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// The graph sees what the test relies on: a file's `use`, inline `super::` paths and
/// names followed through re-exports.
#[test]
fn the_graph_sees_imports() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let krate = Crate::load(&src);
    assert!(krate.files.len() > 50, "{}", krate.files.len());
    let edges = krate.graph();
    let file = |name: &str| {
        (0..krate.files.len())
            .find(|&f| krate.name(f) == name)
            .unwrap_or_else(|| panic!("{name} not in the module tree"))
    };
    // `use crate::config::Config` reaches the file defining Config, not config/mod.rs.
    let gateway = file("gateway/mod.rs");
    assert!(
        !edges[gateway].contains(&file("config/mod.rs")),
        "re-exports are followed"
    );
    assert!(edges[gateway]
        .iter()
        .any(|&f| krate.name(f).starts_with("config/")));
    // A `use super::{…}` group naming sibling modules.
    assert!(edges[file("config/document.rs")].contains(&file("config/budgets.rs")));
    // A test module's `use crate::config::parse` is no dependency of model_limits.rs.
    assert!(!edges[file("config/model_limits.rs")].contains(&file("config/document.rs")));
    assert!(edges[file("wasm/root.rs")]
        .iter()
        .any(|&f| krate.name(f).starts_with("config/")));
}
