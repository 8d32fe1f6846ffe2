//! An owner's setup through the admin CLI, shared by the key, pool and terminal-agent tests:
//! a tenant with a "Support" team, staff, and the tenant's keys (root, issuing, team, archive)
//! in files of the test directory under fixed passphrases.

use std::path::Path;

use super::{admin, admin_stdin, json};

pub(crate) const ROOT_PASS: &str = "root pass, long";
pub(crate) const ISSUING_PASS: &str = "issuing pass";

pub(crate) struct Owner<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) tenant: String,
    pub(crate) team: String,
}

fn id_of(out: &std::process::Output) -> String {
    json(out)["id"].as_str().unwrap().to_owned()
}

impl<'a> Owner<'a> {
    /// A tenant (second factor not required when `relaxed`) and its "Support" team.
    pub(crate) fn new(dir: &'a Path, name: &str, domain: &str, relaxed: bool) -> Self {
        let mut args = vec![
            "tenant", "create", "--name", name, "--domain", domain, "--json",
        ];
        if relaxed {
            args.push("--no-require-2fa");
        }
        let tenant = id_of(&admin(dir, &args));
        let mut owner = Self {
            dir,
            tenant,
            team: String::new(),
        };
        owner.team = owner.new_team("Support");
        owner
    }

    /// A file of the test directory.
    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }

    /// Another team.
    pub(crate) fn new_team(&self, name: &str) -> String {
        id_of(&admin(
            self.dir,
            &[
                "team",
                "create",
                "--tenant",
                &self.tenant,
                "--name",
                name,
                "--json",
            ],
        ))
    }

    /// An agent with a password, member of `team`; returns the staff id.
    pub(crate) fn agent(&self, email: &str, password: &str, team: &str) -> String {
        self.member(email, password, "agent", team)
    }

    /// A staff member of `role` with a password, member of `team`; returns the staff id.
    pub(crate) fn member(&self, email: &str, password: &str, role: &str, team: &str) -> String {
        let args = [
            "staff",
            "create",
            "--tenant",
            &self.tenant,
            "--email",
            email,
            "--role",
            role,
            "--password-stdin",
            "--json",
        ];
        let id = id_of(&admin_stdin(self.dir, &args, &format!("{password}\n")));
        admin(
            self.dir,
            &[
                "team",
                "add-member",
                "--tenant",
                &self.tenant,
                "--team",
                team,
                "--staff",
                &id,
            ],
        );
        id
    }

    /// `root.key` (registered) and `issuing.key`; returns the root's snippet attribute.
    pub(crate) fn root_and_issuing(&self) -> String {
        let root = json(&admin_stdin(
            self.dir,
            &[
                "keys",
                "init",
                "--tenant",
                &self.tenant,
                "--out",
                &self.path("root.key"),
                "--passphrase-stdin",
                "--json",
            ],
            &format!("{ROOT_PASS}\n"),
        ));
        admin_stdin(
            self.dir,
            &[
                "keys",
                "issue",
                "--tenant",
                &self.tenant,
                "--root",
                &self.path("root.key"),
                "--out",
                &self.path("issuing.key"),
                "--passphrase-stdin",
                "--json",
            ],
            &format!("{ROOT_PASS}\n{ISSUING_PASS}\n"),
        );
        root["snippet"].as_str().unwrap().to_owned()
    }

    /// The next version of `team`'s key in `out`, sealed under `pass`.
    pub(crate) fn team_key(&self, team: &str, out: &str, pass: &str) -> serde_json::Value {
        json(&admin_stdin(
            self.dir,
            &[
                "keys",
                "team",
                "--team",
                team,
                "--tenant",
                &self.tenant,
                "--root",
                &self.path("root.key"),
                "--out",
                &self.path(out),
                "--passphrase-stdin",
                "--json",
            ],
            &format!("{ROOT_PASS}\n{pass}\n"),
        ))
    }

    /// The next version of the archive key in `out`, sealed under `pass`.
    pub(crate) fn archive_key(&self, out: &str, pass: &str) -> serde_json::Value {
        json(&admin_stdin(
            self.dir,
            &[
                "keys",
                "archive",
                "--tenant",
                &self.tenant,
                "--root",
                &self.path("root.key"),
                "--out",
                &self.path(out),
                "--passphrase-stdin",
                "--json",
            ],
            &format!("{ROOT_PASS}\n{pass}\n"),
        ))
    }
}
