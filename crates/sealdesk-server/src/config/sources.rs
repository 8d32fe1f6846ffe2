//! Gathers raw configuration values from the four layers, lowest first: built-in defaults
//! (from the key table), `sealdesk.toml`, `SEALDESK_*` environment variables, command-line
//! flags. Each value remembers where it came from so errors can say so. Unknown keys are
//! collected, not fatal on first sight, so that every problem is reported at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ConfigIssue;
use super::keys::{self, KeySpec};

/// Environment variables with this prefix configure Sealdesk.
pub const ENV_PREFIX: &str = "SEALDESK_";
/// Names the configuration file; not itself a key.
pub const ENV_CONFIG_FILE: &str = "SEALDESK_CONFIG";

/// A value before typing: from TOML, or text from the environment, a flag or a secret file.
#[derive(Debug, Clone)]
pub enum RawValue {
    /// A TOML value.
    Toml(toml::Value),
    /// A string to be parsed into the key's type.
    Text(String),
}

/// A raw value and where it came from (`"sealdesk.toml"`, `"SEALDESK_SERVER__LISTEN"`).
#[derive(Debug, Clone)]
pub struct Sourced {
    /// The value.
    pub value: RawValue,
    /// Its origin, for error messages.
    pub origin: String,
}

/// Where configuration comes from. Passed in explicitly (rather than read from the process)
/// so that tests can exercise every layer without touching global state.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The TOML file, if any. A named file that does not exist is an error.
    pub file: Option<PathBuf>,
    /// Environment variables (all of them; only `SEALDESK_*` are read).
    pub env: Vec<(String, String)>,
    /// Command-line overrides: (key path, value, flag name).
    pub flags: Vec<(&'static str, String, &'static str)>,
}

impl ConfigSources {
    /// The process's environment, the file named by `--config` or `SEALDESK_CONFIG`, or
    /// `./sealdesk.toml` when that exists.
    pub fn from_process(config_flag: Option<PathBuf>) -> Self {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = config_flag
            .or_else(|| {
                env.iter()
                    .find(|(k, _)| k == ENV_CONFIG_FILE)
                    .map(|(_, v)| PathBuf::from(v))
            })
            .or_else(|| {
                Path::new("sealdesk.toml")
                    .exists()
                    .then(|| PathBuf::from("sealdesk.toml"))
            });
        Self {
            file,
            env,
            flags: Vec::new(),
        }
    }
}

/// Raw values for every key that has one, after layering.
#[derive(Debug, Default)]
pub struct RawConfig {
    values: BTreeMap<&'static str, Sourced>,
    /// Secret keys given as `<key>_file`: (key, file path, origin).
    secret_files: BTreeMap<&'static str, (PathBuf, String)>,
}

impl RawConfig {
    /// Layers the sources; problems found on the way are appended to `issues`.
    pub fn collect(sources: &ConfigSources, issues: &mut Vec<ConfigIssue>) -> Self {
        let mut raw = RawConfig::default();
        for spec in keys::KEYS {
            if let Some(default) = spec.default {
                match toml::from_str::<toml::Table>(&format!("v = {default}")) {
                    Ok(mut t) => {
                        if let Some(v) = t.remove("v") {
                            raw.values.insert(
                                spec.path,
                                Sourced {
                                    value: RawValue::Toml(v),
                                    origin: "default".into(),
                                },
                            );
                        }
                    }
                    Err(e) => issues.push(ConfigIssue::new(
                        spec.path,
                        "built-in default",
                        e.to_string(),
                    )),
                }
            }
        }
        if let Some(file) = &sources.file {
            raw.read_file(file, issues);
        }
        for (name, value) in &sources.env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if name == ENV_CONFIG_FILE || rest.starts_with("TEST_") {
                continue;
            }
            let path = rest.to_ascii_lowercase().replace("__", ".");
            raw.set(&path, RawValue::Text(value.clone()), name.clone(), issues);
        }
        for (path, value, flag) in &sources.flags {
            raw.set(
                path,
                RawValue::Text(value.clone()),
                (*flag).to_owned(),
                issues,
            );
        }
        raw.check_secret_conflicts(issues);
        raw
    }

    fn read_file(&mut self, file: &Path, issues: &mut Vec<ConfigIssue>) {
        let origin = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                issues.push(ConfigIssue::new(
                    "",
                    &origin,
                    format!("cannot read the configuration file: {e}"),
                ));
                return;
            }
        };
        match toml::from_str::<toml::Table>(&text) {
            Ok(table) => self.walk(&table, "", &origin, issues),
            Err(e) => issues.push(ConfigIssue::new(
                "",
                &origin,
                format!("not valid TOML: {}", e.message()),
            )),
        }
    }

    fn walk(
        &mut self,
        table: &toml::Table,
        prefix: &str,
        origin: &str,
        issues: &mut Vec<ConfigIssue>,
    ) {
        for (k, v) in table {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(inner) if keys::find(&path).is_none() && is_section(&path) => {
                    self.walk(inner, &path, origin, issues);
                }
                _ => self.set(&path, RawValue::Toml(v.clone()), origin.to_owned(), issues),
            }
        }
    }

    fn set(&mut self, path: &str, value: RawValue, origin: String, issues: &mut Vec<ConfigIssue>) {
        if let Some(spec) = keys::find(path) {
            self.values.insert(spec.path, Sourced { value, origin });
            return;
        }
        if let Some(spec) = secret_file_target(path) {
            match value {
                RawValue::Text(p) | RawValue::Toml(toml::Value::String(p)) => {
                    self.secret_files
                        .insert(spec.path, (PathBuf::from(p), origin));
                }
                RawValue::Toml(_) => {
                    issues.push(ConfigIssue::new(path, &origin, "must be a file path"));
                }
            }
            return;
        }
        let hint = keys::suggest(path)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        issues.push(ConfigIssue::new(
            path,
            &origin,
            format!("unknown key{hint}"),
        ));
    }

    /// A secret may be given directly or as a file, never both (even from different layers).
    fn check_secret_conflicts(&mut self, issues: &mut Vec<ConfigIssue>) {
        let files: Vec<_> = self
            .secret_files
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (key, (file, file_origin)) in files {
            if let Some(direct) = self.values.get(key) {
                issues.push(ConfigIssue::new(
                    key,
                    &format!("{} and {file_origin}", direct.origin),
                    format!("set both `{key}` and `{key}_file`; choose one"),
                ));
                continue;
            }
            match std::fs::read_to_string(&file) {
                Ok(secret) => {
                    let secret = secret.trim_end_matches(['\n', '\r']).to_owned();
                    self.values.insert(
                        key,
                        Sourced {
                            value: RawValue::Text(secret),
                            origin: format!("{} (via {file_origin})", file.display()),
                        },
                    );
                }
                Err(e) => issues.push(ConfigIssue::new(
                    key,
                    &file_origin,
                    format!("cannot read secret file {}: {e}", file.display()),
                )),
            }
        }
    }

    /// The raw value of a key, if any layer set it.
    pub fn get(&self, path: &str) -> Option<&Sourced> {
        self.values.get(path)
    }

    /// Whether the key was set by a layer above the built-in defaults.
    pub fn is_explicit(&self, path: &str) -> bool {
        self.values.get(path).is_some_and(|s| s.origin != "default")
    }
}

fn is_section(path: &str) -> bool {
    let prefix = format!("{path}.");
    keys::KEYS.iter().any(|k| k.path.starts_with(&prefix))
}

fn secret_file_target(path: &str) -> Option<&'static KeySpec> {
    let base = path.strip_suffix("_file")?;
    keys::find(base).filter(|s| s.sensitive)
}
