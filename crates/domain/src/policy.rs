//! The access policy: the one place that decides who may read and change what.
//!
//! A [`Caller`] (from a token, or anonymous) is turned into a [`Scope`] once per request,
//! after storage has looked up the materialised path of the caller's network. The scope
//! answers two questions: which rows of an entity the caller may read ([`ReadScope`], which
//! storage turns into SQL), and whether it may write a record at a given [`Location`].
//! Records outside the read scope are "not found", so their existence does not leak.

use crate::network::path_within;
use crate::statistics::Measure;
use crate::string_enum;
use uuid::Uuid;

string_enum!(Role {
    FederalAdmin => "federal_admin",
    StateCoordinator => "state_coordinator",
    RegionalCoordinator => "regional_coordinator",
    OrgAdmin => "org_admin",
    OrgMember => "org_member",
    MinistryAnalyst => "ministry_analyst",
    Anonymous => "anonymous",
});

/// Which claim a role is anchored by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorKind {
    None,
    Network,
    Organisation,
}

impl Role {
    pub fn anchor_kind(self) -> AnchorKind {
        match self {
            Role::StateCoordinator | Role::RegionalCoordinator => AnchorKind::Network,
            Role::OrgAdmin | Role::OrgMember => AnchorKind::Organisation,
            Role::FederalAdmin | Role::MinistryAnalyst | Role::Anonymous => AnchorKind::None,
        }
    }

    /// Roles that may read records about people (contacts, volunteers, staff, mentorships).
    pub fn reads_people(self) -> bool {
        !matches!(self, Role::MinistryAnalyst | Role::Anonymous)
    }
}

/// Where a caller is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    None,
    Network(Uuid),
    Organisation(Uuid),
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub role: Role,
    pub anchor: Anchor,
}

/// Why a set of claims does not make a caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    #[error("role `{0}` needs a `network` claim")]
    NeedsNetwork(Role),
    #[error("role `{0}` needs an `organisation` claim")]
    NeedsOrganisation(Role),
    #[error("role `{0}` takes no `network` or `organisation` claim")]
    NoAnchorAllowed(Role),
    #[error("a token cannot carry the role `anonymous`")]
    AnonymousToken,
    #[error("the subject (`sub`) is empty")]
    EmptySubject,
}

impl Caller {
    /// A caller from token claims: the role must come with exactly the anchor it needs.
    pub fn from_claims(
        subject: &str,
        role: Role,
        network: Option<Uuid>,
        organisation: Option<Uuid>,
    ) -> Result<Caller, CallerError> {
        if subject.trim().is_empty() {
            return Err(CallerError::EmptySubject);
        }
        let anchor = match (role.anchor_kind(), network, organisation) {
            _ if role == Role::Anonymous => return Err(CallerError::AnonymousToken),
            (AnchorKind::Network, Some(n), None) => Anchor::Network(n),
            (AnchorKind::Network, _, _) => return Err(CallerError::NeedsNetwork(role)),
            (AnchorKind::Organisation, None, Some(o)) => Anchor::Organisation(o),
            (AnchorKind::Organisation, _, _) => return Err(CallerError::NeedsOrganisation(role)),
            (AnchorKind::None, None, None) => Anchor::None,
            (AnchorKind::None, _, _) => return Err(CallerError::NoAnchorAllowed(role)),
        };
        Ok(Caller {
            subject: subject.to_owned(),
            role,
            anchor,
        })
    }

    pub fn anonymous() -> Caller {
        Caller {
            subject: "anonymous".into(),
            role: Role::Anonymous,
            anchor: Anchor::None,
        }
    }

    /// The server itself, for seeding and maintenance commands run by an operator.
    pub fn system() -> Caller {
        Caller {
            subject: "system".into(),
            role: Role::FederalAdmin,
            anchor: Anchor::None,
        }
    }
}

string_enum!(EntityKind {
    Network => "network",
    Organisation => "organisation",
    Contact => "contact",
    Offering => "offering",
    Volunteer => "volunteer",
    Staff => "staff",
    Mentorship => "mentorship",
    Cooperation => "cooperation",
    Committee => "committee",
    CommitteeMeeting => "committee_meeting",
    Funding => "funding",
    AuditEvent => "audit_event",
});

impl EntityKind {
    /// Entities that are records about people.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            EntityKind::Contact
                | EntityKind::Volunteer
                | EntityKind::Staff
                | EntityKind::Mentorship
        )
    }
}

/// The rows of one entity a caller may read; storage turns it into a SQL condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadScope {
    All,
    /// Rows located in the network with this materialised path or below it.
    Subtree(String),
    /// Rows of this organisation and of its member organisations.
    Organisation(Uuid),
    /// The public directory: published offerings; organisations with public fields only.
    Published,
    /// The caller's own rows in full (the inner scope) and the public directory besides:
    /// every role reads at least what an anonymous caller reads.
    OwnAndPublished(Box<ReadScope>),
    Nothing,
}

impl ReadScope {
    /// The rows read in full: the inner scope of [`ReadScope::OwnAndPublished`], `None`
    /// for the public directory alone.
    pub fn full(&self) -> Option<&ReadScope> {
        match self {
            ReadScope::Published => None,
            ReadScope::OwnAndPublished(own) => Some(own),
            other => Some(other),
        }
    }
}

/// Where a record lives, for write decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Materialised path of the record's network (for organisation-owned records, the
    /// organisation's home network).
    pub network_path: String,
    /// The owning organisation, if the record belongs to one (for an organisation, itself).
    pub organisation_id: Option<Uuid>,
}

/// A caller whose anchor has been resolved: the answer to every access question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    caller: Caller,
    /// The materialised path of the caller's network, for network-anchored roles.
    anchor_path: Option<String>,
}

impl Scope {
    /// `anchor_path` must be the stored path of the caller's network for coordinators; it is
    /// ignored for other roles. A coordinator whose network is unknown reads nothing.
    pub fn new(caller: Caller, anchor_path: Option<String>) -> Scope {
        Scope {
            caller,
            anchor_path,
        }
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    pub fn role(&self) -> Role {
        self.caller.role
    }

    fn own(&self) -> ReadScope {
        match (
            self.caller.role.anchor_kind(),
            self.caller.anchor,
            &self.anchor_path,
        ) {
            (AnchorKind::Network, _, Some(path)) => ReadScope::Subtree(path.clone()),
            (AnchorKind::Organisation, Anchor::Organisation(id), _) => ReadScope::Organisation(id),
            _ => ReadScope::Nothing,
        }
    }

    /// The rows of `entity` this caller may read.
    pub fn read(&self, entity: EntityKind) -> ReadScope {
        use EntityKind as E;
        match self.caller.role {
            Role::FederalAdmin => ReadScope::All,
            _ if entity == E::Network => ReadScope::All,
            Role::StateCoordinator
            | Role::RegionalCoordinator
            | Role::OrgAdmin
            | Role::OrgMember => match (entity, self.own()) {
                (E::Organisation | E::Offering, ReadScope::Nothing) => ReadScope::Published,
                (E::Organisation | E::Offering, own) => ReadScope::OwnAndPublished(Box::new(own)),
                (_, own) => own,
            },
            Role::MinistryAnalyst | Role::Anonymous => match entity {
                E::Organisation | E::Offering => ReadScope::Published,
                _ => ReadScope::Nothing,
            },
        }
    }

    /// Whether the caller may create, change or delete a record of `entity` at `at`.
    pub fn may_write(&self, entity: EntityKind, at: &Location) -> bool {
        use EntityKind as E;
        if entity == E::AuditEvent {
            return false; // written by the system alongside every write, never directly
        }
        match self.caller.role {
            Role::FederalAdmin => true,
            Role::StateCoordinator | Role::RegionalCoordinator => match &self.anchor_path {
                Some(path) => path_within(&at.network_path, path),
                None => false,
            },
            Role::OrgAdmin => {
                matches!(
                    entity,
                    E::Organisation
                        | E::Contact
                        | E::Offering
                        | E::Volunteer
                        | E::Staff
                        | E::Mentorship
                        | E::Cooperation
                        | E::Funding
                ) && self.is_own_organisation(at)
            }
            Role::OrgMember => {
                matches!(entity, E::Mentorship | E::Volunteer) && self.is_own_organisation(at)
            }
            Role::MinistryAnalyst | Role::Anonymous => false,
        }
    }

    fn is_own_organisation(&self, at: &Location) -> bool {
        matches!(self.caller.anchor, Anchor::Organisation(id) if at.organisation_id == Some(id))
    }

    /// Whether the caller sees exact statistics for the subtree at `path` (the federal root's
    /// path for the whole network): only where it may read every underlying record, that
    /// is a federal admin anywhere and a coordinator inside its own subtree. Everyone else
    /// sees the protected view (small cells suppressed).
    ///
    /// Measures that describe organisations and money rather than people
    /// ([`Measure::describes_people`]) are exact for the ministry and every coordinator too.
    pub fn statistics_exact(&self, measure: Measure, path: &str) -> bool {
        match self.caller.role {
            Role::FederalAdmin => true,
            Role::MinistryAnalyst | Role::StateCoordinator | Role::RegionalCoordinator
                if !measure.describes_people() =>
            {
                true
            }
            Role::StateCoordinator | Role::RegionalCoordinator => self
                .anchor_path
                .as_deref()
                .is_some_and(|own| path_within(path, own)),
            _ => false,
        }
    }

    /// The network a statistic is about when the caller names none: a coordinator's own.
    pub fn statistics_home(&self) -> Option<Uuid> {
        match (self.caller.role, self.caller.anchor) {
            (Role::StateCoordinator | Role::RegionalCoordinator, Anchor::Network(id)) => Some(id),
            _ => None,
        }
    }

    /// Whether the caller may freeze the statistics at a reporting deadline.
    pub fn may_snapshot(&self) -> bool {
        self.caller.role == Role::FederalAdmin
    }

    /// Whether the caller may write anything at all (for a quick 403 before any lookup).
    pub fn writes_anything(&self) -> bool {
        !matches!(self.caller.role, Role::MinistryAnalyst | Role::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::child_path;

    struct Tree {
        federal: String,
        bavaria: String,
        munich: String,
        saxony: String,
        leipzig: String,
    }

    fn tree() -> Tree {
        let federal = child_path(None, Uuid::now_v7());
        let bavaria = child_path(Some(&federal), Uuid::now_v7());
        let munich = child_path(Some(&bavaria), Uuid::now_v7());
        let saxony = child_path(Some(&federal), Uuid::now_v7());
        let leipzig = child_path(Some(&saxony), Uuid::now_v7());
        Tree {
            federal,
            bavaria,
            munich,
            saxony,
            leipzig,
        }
    }

    fn scope(role: Role, net: Option<Uuid>, org: Option<Uuid>, path: Option<&str>) -> Scope {
        Scope::new(
            Caller::from_claims("u", role, net, org).expect("caller"),
            path.map(str::to_owned),
        )
    }

    #[test]
    fn claims_must_match_the_role() {
        let n = Some(Uuid::nil());
        assert_eq!(
            Caller::from_claims("u", Role::StateCoordinator, None, None),
            Err(CallerError::NeedsNetwork(Role::StateCoordinator))
        );
        assert_eq!(
            Caller::from_claims("u", Role::OrgAdmin, n, None),
            Err(CallerError::NeedsOrganisation(Role::OrgAdmin))
        );
        assert_eq!(
            Caller::from_claims("u", Role::FederalAdmin, n, None),
            Err(CallerError::NoAnchorAllowed(Role::FederalAdmin))
        );
        assert_eq!(
            Caller::from_claims("u", Role::Anonymous, None, None),
            Err(CallerError::AnonymousToken)
        );
        assert_eq!(
            Caller::from_claims(" ", Role::FederalAdmin, None, None),
            Err(CallerError::EmptySubject)
        );
        assert!(Caller::from_claims("u", Role::RegionalCoordinator, n, None).is_ok());
    }

    #[test]
    fn coordinators_write_only_in_their_subtree() {
        let t = tree();
        let munich_coord = scope(
            Role::RegionalCoordinator,
            Some(Uuid::nil()),
            None,
            Some(&t.munich),
        );
        let bavaria_coord = scope(
            Role::StateCoordinator,
            Some(Uuid::nil()),
            None,
            Some(&t.bavaria),
        );
        let at = |p: &str| Location {
            network_path: p.to_owned(),
            organisation_id: None,
        };
        assert!(munich_coord.may_write(EntityKind::Offering, &at(&t.munich)));
        assert!(!munich_coord.may_write(EntityKind::Offering, &at(&t.leipzig)));
        assert!(!munich_coord.may_write(EntityKind::Offering, &at(&t.bavaria)));
        assert!(bavaria_coord.may_write(EntityKind::Mentorship, &at(&t.munich)));
        assert!(!bavaria_coord.may_write(EntityKind::Mentorship, &at(&t.saxony)));
        assert!(!bavaria_coord.may_write(EntityKind::Network, &at(&t.federal)));
        assert_eq!(
            munich_coord.read(EntityKind::Contact),
            ReadScope::Subtree(t.munich.clone())
        );
    }

    #[test]
    fn organisation_roles() {
        let t = tree();
        let x = Uuid::from_u128(1);
        let y = Uuid::from_u128(2);
        let admin = scope(Role::OrgAdmin, None, Some(x), None);
        let member = scope(Role::OrgMember, None, Some(x), None);
        let at_x = Location {
            network_path: t.munich.clone(),
            organisation_id: Some(x),
        };
        let at_y = Location {
            network_path: t.munich.clone(),
            organisation_id: Some(y),
        };
        assert!(admin.may_write(EntityKind::Contact, &at_x));
        assert!(!admin.may_write(EntityKind::Contact, &at_y));
        assert!(!admin.may_write(EntityKind::Network, &at_x));
        assert!(!admin.may_write(EntityKind::Committee, &at_x));
        assert!(member.may_write(EntityKind::Mentorship, &at_x));
        assert!(member.may_write(EntityKind::Volunteer, &at_x));
        assert!(!member.may_write(EntityKind::Contact, &at_x));
        assert!(!member.may_write(EntityKind::Mentorship, &at_y));
        assert_eq!(
            member.read(EntityKind::Mentorship),
            ReadScope::Organisation(x)
        );
    }

    #[test]
    fn ministry_and_anonymous_never_read_people_or_write() {
        let t = tree();
        let anywhere = Location {
            network_path: t.federal.clone(),
            organisation_id: None,
        };
        for s in [
            scope(Role::MinistryAnalyst, None, None, None),
            Scope::new(Caller::anonymous(), None),
        ] {
            for &e in EntityKind::ALL {
                assert!(!s.may_write(e, &anywhere), "{e}");
                if e.is_personal() || matches!(e, EntityKind::Funding | EntityKind::AuditEvent) {
                    assert_eq!(s.read(e), ReadScope::Nothing, "{e}");
                }
            }
            assert_eq!(s.read(EntityKind::Offering), ReadScope::Published);
            assert_eq!(s.read(EntityKind::Network), ReadScope::All);
            assert!(!s.writes_anything());
        }
    }

    #[test]
    fn every_role_reads_at_least_the_public_directory() {
        let anonymous = Scope::new(Caller::anonymous(), None);
        let t = tree();
        let x = Uuid::now_v7();
        for s in [
            scope(Role::StateCoordinator, Some(x), None, Some(&t.bavaria)),
            scope(Role::RegionalCoordinator, Some(x), None, Some(&t.munich)),
            scope(Role::OrgAdmin, None, Some(x), None),
            scope(Role::OrgMember, None, Some(x), None),
            scope(Role::MinistryAnalyst, None, None, None),
            Scope::new(Caller::system(), None),
        ] {
            for e in [EntityKind::Organisation, EntityKind::Offering] {
                let mine = s.read(e);
                let public = anonymous.read(e);
                assert!(
                    mine == ReadScope::All
                        || mine == public
                        || matches!(mine, ReadScope::OwnAndPublished(_)),
                    "{:?} reads {mine:?} of {e}",
                    s.role()
                );
                // Its own rows stay in full.
                if matches!(s.role(), Role::OrgAdmin | Role::OrgMember) {
                    assert_eq!(mine.full(), Some(&ReadScope::Organisation(x)));
                }
            }
        }
    }

    #[test]
    fn federal_admin_everything_but_audit_writes() {
        let s = Scope::new(Caller::system(), None);
        let at = Location {
            network_path: String::new(),
            organisation_id: None,
        };
        for &e in EntityKind::ALL {
            assert_eq!(s.read(e), ReadScope::All);
            assert_eq!(s.may_write(e, &at), e != EntityKind::AuditEvent);
        }
    }

    #[test]
    fn coordinator_without_resolved_network_reads_nothing_but_the_directory() {
        let s = scope(Role::StateCoordinator, Some(Uuid::nil()), None, None);
        assert_eq!(s.read(EntityKind::Organisation), ReadScope::Published);
        assert_eq!(s.read(EntityKind::Volunteer), ReadScope::Nothing);
        let at = Location {
            network_path: String::new(),
            organisation_id: None,
        };
        assert!(!s.may_write(EntityKind::Organisation, &at));
    }
}
