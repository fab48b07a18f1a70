//! The doctor's report: one line per check, ✓/✗/– with the evidence and,
//! for a failure, the fix; as text or JSON.

use serde_json::json;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Could not be checked (AWS offers no way, or an earlier failure
    /// leaves nothing to check with); does not fail the doctor.
    Skip,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Fail => "✗",
            Status::Skip => "–",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Check {
    pub name: String,
    pub status: Status,
    pub evidence: String,
    pub fix: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub agent: String,
    pub resource: Option<String>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn pass(&mut self, name: &str, evidence: impl Into<String>) {
        self.push(name, Status::Pass, evidence, None::<String>);
    }
    pub fn fail(&mut self, name: &str, evidence: impl Into<String>, fix: impl Into<String>) {
        self.push(name, Status::Fail, evidence, Some(fix));
    }
    pub fn skip(&mut self, name: &str, evidence: impl Into<String>) {
        self.push(name, Status::Skip, evidence, None::<String>);
    }
    fn push(
        &mut self,
        name: &str,
        status: Status,
        evidence: impl Into<String>,
        fix: Option<impl Into<String>>,
    ) {
        self.checks.push(Check {
            name: name.to_string(),
            status,
            evidence: evidence.into(),
            fix: fix.map(Into::into),
        });
    }

    pub fn ok(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Fail)
    }

    fn count(&self, s: Status) -> usize {
        self.checks.iter().filter(|c| c.status == s).count()
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "ocf-aws doctor: {}{}\n",
            self.agent,
            self.resource
                .as_ref()
                .map(|r| format!(" (resource {r})"))
                .unwrap_or_default()
        );
        for c in &self.checks {
            out.push_str(&format!("{} {}: {}\n", c.status.mark(), c.name, c.evidence));
            if let Some(f) = &c.fix {
                out.push_str(&format!("    fix: {f}\n"));
            }
        }
        out.push_str(&format!(
            "{} checks: {} passed, {} failed, {} not checked\n",
            self.checks.len(),
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::Skip)
        ));
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "agent": self.agent,
            "resource": self.resource,
            "ok": self.ok(),
            "passed": self.count(Status::Pass),
            "failed": self.count(Status::Fail),
            "skipped": self.count(Status::Skip),
            "checks": self.checks.iter().map(|c| json!({
                "check": c.name,
                "status": c.status.word(),
                "evidence": c.evidence,
                "fix": c.fix,
            })).collect::<Vec<_>>(),
        })
    }
}
