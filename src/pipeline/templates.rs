//! The writer's templates folder (`templates/` beside the content folder) →
//! [`Templates`]. Read again when a file in it changes; a template that does
//! not parse keeps its last good version (or the built-in one), and the
//! problem is reported with its file and line.

use crate::diagnostic::Diagnostic;
use crate::render::html::{TemplateProblem, Templates};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct TemplateFolder {
    dir: PathBuf,
    /// The last version of each template that parsed, by name.
    good: BTreeMap<String, String>,
    templates: Arc<Templates>,
    /// Problems found reading the folder, until it is read again.
    problems: Vec<Diagnostic>,
    /// The sources as last read, broken ones included.
    read: Option<BTreeMap<String, String>>,
}

impl TemplateFolder {
    /// The folder beside `content` (`site/content` → `site/templates`).
    pub fn beside(content: &Path) -> Self {
        let dir = content.parent().unwrap_or(Path::new("")).join("templates");
        TemplateFolder {
            dir,
            good: BTreeMap::new(),
            templates: Arc::new(Templates::built_in()),
            problems: Vec::new(),
            read: None,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn templates(&self) -> &Arc<Templates> {
        &self.templates
    }

    pub fn problems(&self) -> &[Diagnostic] {
        &self.problems
    }

    /// Whether `path` (as the watcher names it) is in the folder.
    pub fn contains(&self, path: &Path) -> bool {
        path.starts_with(&self.dir)
    }

    /// Reads every `*.html` and `*.css` file of the folder again. A missing folder
    /// means the built-in templates.
    pub fn read(&mut self) {
        let mut problems = Vec::new();
        let mut sources = BTreeMap::new();
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                    continue;
                };
                let template = name.ends_with(".html") || name.ends_with(".css");
                if !template || crate::content::walk::is_ignored_name(&name) {
                    continue;
                }
                match fs::read_to_string(&path) {
                    Ok(source) => {
                        sources.insert(name, source);
                    }
                    Err(e) => {
                        problems.push(Diagnostic::error(path, format!("cannot read this template: {e}")))
                    }
                }
            }
        }
        // An unchanged folder keeps the same templates (and problems), so
        // pages rendered with them are not rendered again: a rescan reads
        // the folder each time.
        if self.read.as_ref() == Some(&sources) {
            return;
        }
        self.read = Some(sources.clone());
        let (mut templates, broken) = Templates::new(&overrides(&sources));
        for problem in &broken {
            let kept = if self.good.contains_key(&problem.name) {
                "its last good version is used until it is fixed"
            } else {
                "the built-in template is used until it is fixed"
            };
            problems.push(self.diagnostic(problem, kept));
            match self.good.get(&problem.name) {
                Some(good) => sources.insert(problem.name.clone(), good.clone()),
                None => sources.remove(&problem.name),
            };
        }
        if !broken.is_empty() {
            templates = Templates::new(&overrides(&sources)).0;
        }
        self.problems = problems;
        self.good = sources;
        self.templates = Arc::new(templates);
    }

    /// A template that failed while rendering a page.
    pub fn render_problem(&self, problem: &TemplateProblem) -> Diagnostic {
        self.diagnostic(problem, "pages it renders use the built-in template until it is fixed")
    }

    fn diagnostic(&self, problem: &TemplateProblem, consequence: &str) -> Diagnostic {
        Diagnostic::error(self.dir.join(&problem.name), format!("{}; {consequence}", problem.message))
            .at(problem.line, None)
    }
}

fn overrides(sources: &BTreeMap<String, String>) -> Vec<(String, String)> {
    sources.iter().map(|(name, source)| (name.clone(), source.clone())).collect()
}
