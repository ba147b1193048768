//! Turning the text of a check command or an alert condition into a
//! compiled script, once.
//!
//! Text in the ZMON Python subset is translated to Rhai first; anything
//! else is compiled as Rhai. An error points at the column where the text
//! went wrong, in the language the author evidently wrote.

use std::fmt;
use std::sync::Arc;

use rhai::AST;

use crate::engine;
use crate::fast::{self, Fast};
use crate::python;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// The ZMON Python subset, translated to Rhai.
    Python,
    Rhai,
}

/// What a compiled script reads, so callers load only what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// The check's earlier results on this entity (`value_series`,
    /// `alert_series`, `monotonic`, `timeseries_*`).
    pub history: bool,
    /// Latest results of the alert's other entities (`entity_values`,
    /// `entity_results`); the number of results per entity.
    pub entity_results: Option<usize>,
    /// The script reads `entity` (binding it costs a conversion).
    pub entity: bool,
    /// The script reads the `params` map.
    pub params: bool,
    /// The latest status report of every registered host
    /// (`host_reports()`), for fleet checks.
    pub host_reports: bool,
}

#[derive(Debug, Clone)]
pub struct Compiled {
    pub ast: Arc<AST>,
    pub language: Language,
    /// The Rhai source that runs.
    pub rhai: String,
    pub needs: Needs,
    /// The direct form of a simple Python condition (see `fast`).
    pub(crate) fast: Option<Arc<Fast>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError(pub String);

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CompileError {}

/// Hints that the author wrote Rhai rather than Python.
/// Whether text that is not valid Python was meant as Rhai. Without one of
/// these marks it is taken as mistyped Python (`value = 3`), since a
/// ZMON user writes Python, and Rhai would accept some typos and fail
/// on every run instead.
fn looks_like_rhai(src: &str) -> bool {
    const MARKS: &[&str] = &[
        "&&", "||", "let ", ";", "{", "fn ", "=>", "??", "?.", "?[", "`",
    ];
    let negation = src
        .char_indices()
        .any(|(i, c)| c == '!' && !src[i + 1..].starts_with('='));
    negation || MARKS.iter().any(|t| src.contains(t))
}

fn needs(rhai: &str) -> Needs {
    let history = ["value_series", "alert_series", "monotonic", "timeseries_"]
        .iter()
        .any(|f| rhai.contains(f));
    let entity_results = if rhai.contains("entity_values") || rhai.contains("entity_results") {
        let only_latest = !rhai.contains("entity_values(") && !rhai.contains("entity_results(")
            || rhai.contains("entity_values()")
            || rhai.contains("entity_results()")
            || rhai.contains("entity_values(1)")
            || rhai.contains("entity_results(1)");
        Some(if only_latest { 1 } else { 20 })
    } else {
        None
    };
    Needs {
        history,
        entity_results,
        entity: rhai.contains("entity"),
        params: rhai.contains("params"),
        host_reports: rhai.contains("host_reports"),
    }
}

fn compile_rhai(
    source: String,
    language: Language,
    fast: Option<Fast>,
) -> Result<Compiled, CompileError> {
    let ast = engine::shared()
        .compile(&source)
        .map_err(|e| CompileError(format!("{e}")))?;
    Ok(Compiled {
        needs: needs(&source),
        ast: Arc::new(ast),
        language,
        rhai: source,
        fast: fast.map(Arc::new),
    })
}

/// Compiles an alert condition or a check command.
pub fn compile(src: &str) -> Result<Compiled, CompileError> {
    if src.trim().is_empty() {
        return Err(CompileError("is empty".into()));
    }
    let parsed = python::parse(src).and_then(|expr| {
        let rhai = python::emit(&expr)?;
        Ok((rhai, fast::compile(&expr)))
    });
    match parsed {
        Ok((rhai, fast)) => compile_rhai(rhai, Language::Python, fast).map_err(|e| {
            CompileError(format!(
                "cannot be compiled after translation from Python: {e}"
            ))
        }),
        Err(python_error) if !looks_like_rhai(src) => Err(CompileError(format!(
            "is not valid (Python subset) {python_error}"
        ))),
        Err(_) => compile_rhai(src.to_string(), Language::Rhai, None)
            .map_err(|e| CompileError(format!("is not valid Rhai: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_first_then_rhai() {
        let c = compile("capture(longitude=float(value)) > longitude_param").expect("python");
        assert_eq!(c.language, Language::Python);
        let c = compile("value > 3 && value < 5").expect("rhai");
        assert_eq!(c.language, Language::Rhai);
        let c = compile("let x = value * 2; x > 3").expect("rhai script");
        assert_eq!(c.language, Language::Rhai);
    }

    #[test]
    fn errors_speak_the_authors_language() {
        let e = compile("value > (1").expect_err("python").to_string();
        assert!(
            e.starts_with("is not valid (Python subset) at column"),
            "{e}"
        );
        let e = compile("value > 3 &&").expect_err("rhai").to_string();
        assert!(e.starts_with("is not valid Rhai"), "{e}");
        assert_eq!(compile("  ").expect_err("empty").to_string(), "is empty");
    }

    #[test]
    fn knows_what_history_a_script_needs() {
        assert_eq!(compile("value > 1").expect("c").needs, Needs::default());
        assert!(compile("entity['x'] > 1").expect("c").needs.entity);
        assert!(compile("params['x'] > 1").expect("c").needs.params);
        assert!(
            compile("timeseries_avg('5m') > 1")
                .expect("c")
                .needs
                .history
        );
        assert_eq!(
            compile("max(entity_values()) > 1")
                .expect("c")
                .needs
                .entity_results,
            Some(1)
        );
        assert_eq!(
            compile("len(entity_results(5)) > 1")
                .expect("c")
                .needs
                .entity_results,
            Some(20)
        );
    }
}
