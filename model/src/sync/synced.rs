//! Every kind of document that syncs: cases and patrols. Storage and the sync plumbing (push,
//! pull, the device's store) handle both the same way; only reading the content and judging a
//! push depend on the kind, which the root `kind` key tells.

use crate::case::doc::{canonical_save, changes_since, check_bytes, load_received, str_at};
use crate::case::{CaseDoc, DocError, RawChange};
use crate::patrol::{PATROL_KIND, PatrolDoc};
use automerge::{ActorId, AutoCommit, ChangeHash};

/// A synced document of either kind.
#[derive(Debug)]
pub enum SyncedDoc {
    /// A problem report or resident request.
    Case(CaseDoc),
    /// A patrol.
    Patrol(PatrolDoc),
}

impl SyncedDoc {
    /// Loads a saved document of either kind.
    pub fn load(bytes: &[u8], actor: &ActorId) -> Result<SyncedDoc, DocError> {
        SyncedDoc::wrap(AutoCommit::load(bytes)?.with_actor(actor.clone()))
    }

    /// Builds a document from bytes received from elsewhere (a whole document or changes).
    pub fn from_remote(bytes: &[u8], actor: &ActorId) -> Result<SyncedDoc, DocError> {
        check_bytes(bytes)?;
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        load_received(&mut doc, bytes)?;
        SyncedDoc::wrap(doc)
    }

    /// Builds a document from received bytes that [`crate::case::chunks::check`] has already
    /// passed (the server checks a push before taking any lock).
    pub fn from_checked(bytes: &[u8], actor: &ActorId) -> Result<SyncedDoc, DocError> {
        let mut doc = AutoCommit::new().with_actor(actor.clone());
        load_received(&mut doc, bytes)?;
        SyncedDoc::wrap(doc)
    }

    fn wrap(doc: AutoCommit) -> Result<SyncedDoc, DocError> {
        if str_at(&doc, "kind").as_deref() == Some(PATROL_KIND) {
            Ok(SyncedDoc::Patrol(PatrolDoc::wrap(doc)?))
        } else {
            Ok(SyncedDoc::Case(CaseDoc::wrap(doc)?))
        }
    }

    fn am(&mut self) -> &mut AutoCommit {
        match self {
            SyncedDoc::Case(d) => d.automerge_mut(),
            SyncedDoc::Patrol(d) => d.automerge_mut(),
        }
    }

    /// `case` or `patrol`.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncedDoc::Case(_) => "case",
            SyncedDoc::Patrol(_) => "patrol",
        }
    }

    /// The document's `id` fact.
    pub fn id(&mut self) -> Result<String, DocError> {
        str_at(self.am(), "id").ok_or(DocError::Field("id"))
    }

    /// Applies bytes received from elsewhere (checked for whole chunks first).
    pub fn apply(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        match self {
            SyncedDoc::Case(d) => d.apply(bytes),
            SyncedDoc::Patrol(d) => d.apply(bytes),
        }
    }

    /// Applies received bytes that [`crate::case::chunks::check`] has already passed.
    pub fn apply_checked(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        match self {
            SyncedDoc::Case(d) => d.apply_checked(bytes),
            SyncedDoc::Patrol(d) => d.apply_checked(bytes),
        }
    }

    /// The current heads.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.am().get_heads()
    }

    /// Changes that arrived changes depend on but that have not arrived.
    pub fn missing_deps(&mut self) -> Vec<ChangeHash> {
        self.am().get_missing_deps(&[])
    }

    /// The changes not reachable from `heads`, in causal order, with their actors.
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<RawChange> {
        changes_since(self.am(), heads)
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.am().save()
    }

    /// The document in canonical form (byte-identical on replicas with the same changes).
    pub fn canonical_save(&mut self) -> Result<Vec<u8>, DocError> {
        canonical_save(self.am())
    }

    /// A copy writing with `actor` from now on.
    pub fn fork(&mut self, actor: &ActorId) -> Result<SyncedDoc, DocError> {
        SyncedDoc::wrap(self.am().fork().with_actor(actor.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Claim;
    use crate::org::{Role, Scope};
    use crate::patrol::{PatrolFacts, PatrolPlace};

    #[test]
    fn the_kind_key_picks_the_document_type() {
        let actor = ActorId::random();
        let facts = PatrolFacts {
            id: "p".into(),
            walker: Claim {
                person: "gw1".into(),
                role: Role::GridWorker,
                scope: Scope::Grid("g1".into()),
            },
            place: PatrolPlace::Grid("g1".into()),
            community: "c1".into(),
            started_at: 5,
        };
        let mut p = PatrolDoc::create(&actor, &facts).unwrap();
        let mut doc = SyncedDoc::from_remote(&p.save(), &actor).unwrap();
        assert_eq!(doc.kind(), "patrol");
        assert_eq!(doc.id().unwrap(), "p");
        let mut copy = doc.fork(&ActorId::random()).unwrap();
        assert_eq!(
            copy.canonical_save().unwrap(),
            doc.canonical_save().unwrap()
        );
        assert!(SyncedDoc::from_remote(b"nonsense", &actor).is_err());
        let mut empty = AutoCommit::new();
        assert!(matches!(
            SyncedDoc::load(&empty.save(), &actor),
            Err(DocError::Field(_))
        ));
    }

    /// Found by the `automerge` fuzz target (`fuzz/corpus/automerge/`): a track change with two
    /// bytes changed, applied as the server does (to a fork of the stored patrol), was taken
    /// in, and automerge panicked reading the new changes back.
    #[test]
    fn a_change_automerge_panics_on_reading_back_is_refused() {
        let base = include_bytes!("../patrol/testdata/base-patrol.am");
        let change = include_bytes!("../patrol/testdata/panic-get-changes.am");
        let mut stored = SyncedDoc::load(base, &ActorId::random()).unwrap();
        let mut after = stored.fork(&ActorId::random()).unwrap();
        let e = after.apply(change).unwrap_err();
        assert!(e.to_string().contains("automerge could not apply"), "{e}");
    }
}
