//! Names for people of the words a statistic's keys hold: German (the programme's
//! language) and English. Each list matches its word set exhaustively, so a new word cannot
//! be added without its names.

use super::Axis;
use crate::cooperation::CooperationStatus;
use crate::funding::FunderKind;
use crate::mentorship::{EndReason, MentorshipStatus};
use crate::network::NetworkLevel;
use crate::offering::{Category, TargetGroup};
use crate::organisation::OrganisationKind;

/// A word's names: German, English.
pub type Names = (&'static str, &'static str);

/// The names of the word `code` on `axis`, if it is a word there (networks, programme
/// partners and periods are named elsewhere).
pub fn code_names(axis: Axis, code: &str) -> Option<Names> {
    match axis {
        Axis::Level => NetworkLevel::parse(code).ok().map(level),
        Axis::OrganisationKind => OrganisationKind::parse(code).ok().map(organisation_kind),
        // Offerings are grouped by their category, funding by the kind of its funder.
        Axis::Category => Category::parse(code)
            .ok()
            .map(category)
            .or_else(|| FunderKind::parse(code).ok().map(funder_kind)),
        Axis::TargetGroup => TargetGroup::parse(code).ok().map(target_group),
        Axis::Status => MentorshipStatus::parse(code)
            .ok()
            .map(mentorship_status)
            .or_else(|| CooperationStatus::parse(code).ok().map(cooperation_status))
            .or_else(|| other_status(code)),
        Axis::EndReason => EndReason::parse(code).ok().map(end_reason),
        Axis::Geo | Axis::ProgrammePartner | Axis::Period => None,
    }
    .or_else(|| code.is_empty().then_some(("keine Angabe", "not given")))
}

fn level(l: NetworkLevel) -> Names {
    match l {
        NetworkLevel::Federal => ("Bund", "federal"),
        NetworkLevel::State => ("Land", "state"),
        NetworkLevel::Regional => ("Region", "regional"),
    }
}

fn organisation_kind(k: OrganisationKind) -> Names {
    match k {
        OrganisationKind::ProgrammePartner => ("Programmpartner", "programme partner"),
        OrganisationKind::Member => ("Mitgliedsorganisation", "member organisation"),
        OrganisationKind::CoordinationOffice => ("Koordinierungsstelle", "coordination office"),
        OrganisationKind::WelcomeCentre => ("Willkommenszentrum", "welcome centre"),
        OrganisationKind::Administration => ("Verwaltung", "administration"),
        OrganisationKind::Other => ("Sonstige", "other"),
    }
}

fn category(c: Category) -> Names {
    match c {
        Category::Mentorship => ("Patenschaft", "mentorship"),
        Category::Language => ("Sprache", "language"),
        Category::Counselling => ("Beratung", "counselling"),
        Category::Education => ("Bildung", "education"),
        Category::Employment => ("Arbeit", "employment"),
        Category::Leisure => ("Freizeit", "leisure"),
        Category::Other => ("Sonstiges", "other"),
    }
}

fn funder_kind(k: FunderKind) -> Names {
    match k {
        FunderKind::Federal => ("Bund", "federal"),
        FunderKind::State => ("Land", "state"),
        FunderKind::Municipal => ("Kommune", "municipal"),
        FunderKind::Foundation => ("Stiftung", "foundation"),
        FunderKind::Other => ("Sonstige", "other"),
    }
}

fn target_group(t: TargetGroup) -> Names {
    match t {
        TargetGroup::Refugees => ("Geflüchtete", "refugees"),
        TargetGroup::Children => ("Kinder", "children"),
        TargetGroup::YoungPeople => ("Jugendliche", "young people"),
        TargetGroup::Families => ("Familien", "families"),
        TargetGroup::OlderPeople => ("Ältere Menschen", "older people"),
        TargetGroup::Women => ("Frauen", "women"),
        TargetGroup::Other => ("Sonstige", "other"),
    }
}

fn end_reason(r: EndReason) -> Names {
    match r {
        EndReason::GoalReached => ("Ziel erreicht", "goal reached"),
        EndReason::MovedAway => ("weggezogen", "moved away"),
        EndReason::Mismatch => ("passte nicht", "mismatch"),
        EndReason::Overload => ("Überlastung", "overload"),
        EndReason::Other => ("Sonstiges", "other"),
    }
}

fn mentorship_status(s: MentorshipStatus) -> Names {
    match s {
        MentorshipStatus::Requested => ("angefragt", "requested"),
        MentorshipStatus::Matched => ("vermittelt", "matched"),
        MentorshipStatus::Active => ("aktiv", "active"),
        MentorshipStatus::Paused => ("pausiert", "paused"),
        MentorshipStatus::Ended => ("beendet", "ended"),
        MentorshipStatus::Cancelled => ("abgebrochen", "cancelled"),
    }
}

fn cooperation_status(s: CooperationStatus) -> Names {
    match s {
        CooperationStatus::Planned => ("geplant", "planned"),
        CooperationStatus::Active => ("aktiv", "active"),
        CooperationStatus::Completed => ("abgeschlossen", "completed"),
        CooperationStatus::Dissolved => ("aufgelöst", "dissolved"),
    }
}

/// The statuses the statistics derive (volunteers, offerings).
fn other_status(code: &str) -> Option<Names> {
    match code {
        "inactive" => Some(("inaktiv", "inactive")),
        "published" => Some(("veröffentlicht", "published")),
        "draft" => Some(("Entwurf", "draft")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_of_every_axis_has_names() {
        let words: [(Axis, &[&str]); 6] = [
            (Axis::Level, NetworkLevel::WORDS),
            (Axis::OrganisationKind, OrganisationKind::WORDS),
            (Axis::TargetGroup, TargetGroup::WORDS),
            (Axis::EndReason, EndReason::WORDS),
            (Axis::Status, MentorshipStatus::WORDS),
            (Axis::Status, CooperationStatus::WORDS),
        ];
        for (axis, words) in words {
            for w in words {
                let (de, en) = code_names(axis, w).expect(w);
                assert!(!de.is_empty() && !en.is_empty() && de != *w, "{w}");
            }
        }
        for w in Category::WORDS.iter().chain(FunderKind::WORDS) {
            assert!(code_names(Axis::Category, w).is_some(), "{w}");
        }
        assert_eq!(
            code_names(Axis::Status, "inactive"),
            Some(("inaktiv", "inactive"))
        );
        assert_eq!(
            code_names(Axis::Category, ""),
            Some(("keine Angabe", "not given"))
        );
        assert_eq!(code_names(Axis::Status, "nonsense"), None);
        assert_eq!(code_names(Axis::Period, "2025"), None);
    }
}
