//! Loading and checking roster and catalogue files, with errors that name the file, the entry
//! and the problem.

use super::{Role, Roster, RosterIndex, Scope};

/// What is wrong with a roster or catalogue file.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// The file is not valid JSON of the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file (or `<memory>`).
        file: String,
        /// serde's description, with line and column.
        message: String,
    },
    /// One entry is invalid.
    #[error("{file}: {entry}: {problem}")]
    Entry {
        /// The file (or `<memory>`).
        file: String,
        /// Which entry, e.g. `people[3] (id "gw-01")`.
        entry: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl Roster {
    /// Parses and checks a roster from JSON text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Roster, OrgError> {
        let mut roster: Roster = serde_json::from_str(text).map_err(|e| OrgError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        roster.check_and_index(file)?;
        Ok(roster)
    }

    pub(super) fn check_and_index(&mut self, file: &str) -> Result<(), OrgError> {
        let mut index = RosterIndex::default();
        let err = |entry: String, problem: String| OrgError::Entry {
            file: file.to_string(),
            entry,
            problem,
        };
        for (i, c) in self.communities.iter().enumerate() {
            if index.communities.insert(c.id.clone(), i).is_some() {
                return Err(err(
                    format!("communities[{i}] (id {:?})", c.id),
                    "duplicate id".into(),
                ));
            }
        }
        for (i, g) in self.grids.iter().enumerate() {
            if index.grids.insert(g.id.clone(), i).is_some() {
                return Err(err(
                    format!("grids[{i}] (id {:?})", g.id),
                    "duplicate id".into(),
                ));
            }
        }
        for (i, s) in self.segments.iter().enumerate() {
            index.segments.insert(s.id.clone(), i);
        }
        for (i, d) in self.departments.iter().enumerate() {
            index.departments.insert(d.id.clone(), i);
        }
        for (i, p) in self.people.iter().enumerate() {
            if index.people.insert(p.id.clone(), i).is_some() {
                return Err(err(
                    format!("people[{i}] (id {:?})", p.id),
                    "duplicate id".into(),
                ));
            }
            match (&p.role, &p.scope) {
                (Role::GridWorker, Scope::Grid(g)) => {
                    index.grid_worker.insert(g.clone(), i);
                }
                (Role::CommunityChief, Scope::Community(c)) => {
                    index.community_chief.insert(c.clone(), i);
                }
                _ => {}
            }
        }
        self.index = index;
        Ok(())
    }
}
