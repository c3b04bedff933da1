//! Mentorships (Patenschaften, Tandems) and their status machine:
//! requested → matched → active ⇄ paused → ended | cancelled.

use crate::error::{Collector, Reason, ValidationErrors};
use crate::offering::TargetGroup;
use crate::string_enum;
use crate::values;
use chrono::NaiveDate;
use uuid::Uuid;
use verbund_record::record;

string_enum!(MentorshipStatus {
    Requested => "requested",
    Matched => "matched",
    Active => "active",
    Paused => "paused",
    Ended => "ended",
    Cancelled => "cancelled",
});

string_enum!(MentorshipFormat { OneToOne => "one_to_one", Group => "group" });

string_enum!(EndReason {
    GoalReached => "goal_reached",
    MovedAway => "moved_away",
    Mismatch => "mismatch",
    Overload => "overload",
    Other => "other",
});

impl MentorshipStatus {
    /// The arrows of the status machine.
    pub fn can_move_to(self, to: MentorshipStatus) -> bool {
        use MentorshipStatus::*;
        matches!(
            (self, to),
            (Requested, Matched)
                | (Requested, Cancelled)
                | (Matched, Active)
                | (Matched, Cancelled)
                | (Active, Paused)
                | (Paused, Active)
                | (Active, Ended)
                | (Paused, Ended)
        )
    }

    /// The statuses one arrow away.
    pub fn next(self) -> Vec<MentorshipStatus> {
        MentorshipStatus::ALL
            .iter()
            .copied()
            .filter(|to| self.can_move_to(*to))
            .collect()
    }

    /// Whether `to` is this status or lies ahead of it along the arrows (one or more
    /// transitions: requested → active passes through matched).
    pub fn can_reach(self, to: MentorshipStatus) -> bool {
        let mut seen = vec![self];
        let mut i = 0;
        while let Some(&at) = seen.get(i) {
            for n in at.next() {
                if !seen.contains(&n) {
                    seen.push(n);
                }
            }
            i += 1;
        }
        seen.contains(&to)
    }

    /// Why a move from `self` to `to` is refused, naming where a transition leads.
    pub fn refusal(self, to: MentorshipStatus) -> Reason {
        Reason::StatusMove {
            from: self.as_str(),
            to: to.as_str(),
            next: self.next().iter().map(|s| s.as_str()).collect(),
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, MentorshipStatus::Ended | MentorshipStatus::Cancelled)
    }
}

/// A move the status machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("{}", MentorshipStatus::refusal(*.from, *.to))]
    NotAllowed {
        from: MentorshipStatus,
        to: MentorshipStatus,
    },
    #[error("a mentorship needs a mentor before it moves to `matched`")]
    NoMentor,
    #[error("the date of the move ({on}) is before the mentorship's last change ({last})")]
    DateBeforeLast { on: NaiveDate, last: NaiveDate },
}

// What every door shows of a mentorship (`views::Mentorship` adds the bookkeeping).
#[record(input = MentorshipInput)]
pub struct Mentorship {
    #[record(owner)]
    pub organisation_id: Uuid,
    pub offering_id: Option<Uuid>,
    /// The volunteer mentoring; required once matched.
    pub mentor_id: Option<Uuid>,
    /// The organisation's pseudonymous reference for the mentee; never a name. Required
    /// until the mentorship has ended.
    #[record(custom)]
    pub mentee_ref: Option<String>,
    /// `one_to_one` or `group`.
    #[record(word)]
    pub format: MentorshipFormat,
    /// `refugees`, `children`, `young_people`, `families`, `older_people`, `women` or `other`.
    #[record(word)]
    pub target_group: TargetGroup,
    /// Defaults to `requested`; a change of status moves only along the status machine
    /// (see the transitions), and each status needs its dates.
    #[record(input = Option<String>, custom)]
    #[input(cfg_attr(feature = "api", schema(value_type = Option<MentorshipStatus>)))]
    pub status: MentorshipStatus,
    /// Defaults to today.
    #[record(input = Option<NaiveDate>, custom)]
    pub requested_on: NaiveDate,
    pub matched_on: Option<NaiveDate>,
    pub started_on: Option<NaiveDate>,
    /// When it ended or was cancelled.
    pub ended_on: Option<NaiveDate>,
    /// For `ended`: `goal_reached`, `moved_away`, `mismatch`, `overload` or `other`.
    #[record(input = Option<String>, present = EndReason::parse)]
    #[input(cfg_attr(feature = "api", schema(value_type = Option<EndReason>)))]
    pub end_reason: Option<EndReason>,
    #[record(present = values::external_id)]
    pub external_id: Option<String>,
}

impl Mentorship {
    /// Validates a new or imported mentorship. A new one is `requested` unless the input
    /// names a status (imports of running mentorships); the dates must then fit the status.
    pub fn parse(input: MentorshipInput, today: NaiveDate) -> Result<Mentorship, ValidationErrors> {
        let mut c = Collector::new();
        let mut parts = Self::parse_fields(&input, &mut c);
        // The reference may be absent once the mentorship has ended: it is dropped
        // `privacy.mentee_retention_days` after the end, and the record stays valid.
        parts.mentee_ref = match values::present(input.mentee_ref.clone()) {
            Some(r) => c.check("menteeRef", values::pseudonym(&r)).map(Some),
            None if input.ended_on.is_some() => Some(None),
            None => {
                c.push("menteeRef", Reason::Missing);
                None
            }
        };
        let status = c
            .check_opt("status", values::present(input.status.clone()), |s| {
                MentorshipStatus::parse(&s)
            })
            .map(|s| s.unwrap_or(MentorshipStatus::Requested));
        let requested_on = input.requested_on.unwrap_or(today);
        (parts.status, parts.requested_on) = (status, Some(requested_on));
        if let Some(status) = status {
            use MentorshipStatus::*;
            let needs_matched = matches!(status, Matched | Active | Paused | Ended);
            let needs_started = matches!(status, Active | Paused | Ended);
            let needs_ended = matches!(status, Ended | Cancelled);
            let dates = [
                ("matchedOn", input.matched_on, needs_matched),
                ("startedOn", input.started_on, needs_started),
                ("endedOn", input.ended_on, needs_ended),
            ];
            for (field, value, needed) in dates {
                match (value, needed) {
                    (None, true) => c.push(field, Reason::Rule("is required for this status")),
                    (Some(_), false) if !(field == "matchedOn" && status == Cancelled) => {
                        c.push(field, Reason::Rule("must be empty for this status"))
                    }
                    _ => {}
                }
            }
            if needs_matched && input.mentor_id.is_none() {
                c.push(
                    "mentorId",
                    Reason::Rule("is required once a mentorship is matched"),
                );
            }
            // Dates must run in order: requested ≤ matched ≤ started ≤ ended.
            let mut last = ("requestedOn", requested_on);
            for (field, value) in [
                ("matchedOn", input.matched_on),
                ("startedOn", input.started_on),
                ("endedOn", input.ended_on),
            ] {
                if let Some(v) = value {
                    if v < last.1 {
                        c.push(field, Reason::EndBeforeStart);
                    }
                    last = (field, v);
                }
            }
            if parts.end_reason.flatten().is_some() && status != Ended {
                c.push(
                    "endReason",
                    Reason::Rule("only an ended mentorship has an end reason"),
                );
            }
        }
        c.finish(|| parts.build())
    }

    /// The rule for every door that writes a whole mentorship over an existing one (PUT,
    /// PATCH, GraphQL update, CSV import): the status stays or moves forward along the
    /// arrows, one or several transitions at once, with the dates the new status needs
    /// ([`Mentorship::parse`] has checked those). A move against the arrows (ended → active,
    /// active → requested) is refused on `status`, naming where a transition leads.
    pub fn check_replacing(&self, old: &Mentorship) -> Result<(), ValidationErrors> {
        if old.status.can_reach(self.status) {
            return Ok(());
        }
        Err(ValidationErrors::single(
            "status",
            old.status.refusal(self.status),
        ))
    }

    /// The mentorship once its mentor is deleted, if it is valid without one: from `matched`
    /// on (cancelled aside) a mentorship needs its mentor, so `None`.
    pub fn without_mentor(&self) -> Option<Mentorship> {
        use MentorshipStatus::*;
        if matches!(self.status, Matched | Active | Paused | Ended) {
            return None;
        }
        Some(Mentorship {
            mentor_id: None,
            ..self.clone()
        })
    }

    /// The mentorship once its offering is deleted (an offering is optional).
    pub fn without_offering(&self) -> Mentorship {
        Mentorship {
            offering_id: None,
            ..self.clone()
        }
    }

    /// The date of the last status change.
    pub fn last_change(&self) -> NaiveDate {
        self.ended_on
            .or(self.started_on)
            .or(self.matched_on)
            .unwrap_or(self.requested_on)
    }

    /// Moves the mentorship along one arrow of the status machine, on day `on`. Moving to
    /// `ended` records the reason (`other` if none is given).
    pub fn transition(
        &mut self,
        to: MentorshipStatus,
        on: NaiveDate,
        reason: Option<EndReason>,
    ) -> Result<(), TransitionError> {
        let from = self.status;
        if !from.can_move_to(to) {
            return Err(TransitionError::NotAllowed { from, to });
        }
        if to == MentorshipStatus::Matched && self.mentor_id.is_none() {
            return Err(TransitionError::NoMentor);
        }
        let last = self.last_change();
        if on < last {
            return Err(TransitionError::DateBeforeLast { on, last });
        }
        match to {
            MentorshipStatus::Matched => self.matched_on = Some(on),
            // Resuming after a pause keeps the original start.
            MentorshipStatus::Active => {
                self.started_on.get_or_insert(on);
            }
            MentorshipStatus::Ended => {
                self.ended_on = Some(on);
                self.end_reason = Some(reason.unwrap_or(EndReason::Other));
            }
            MentorshipStatus::Cancelled => self.ended_on = Some(on),
            MentorshipStatus::Paused | MentorshipStatus::Requested => {}
        }
        self.status = to;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MentorshipStatus::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn new_input() -> MentorshipInput {
        MentorshipInput {
            organisation_id: Uuid::nil(),
            mentor_id: Some(Uuid::nil()),
            mentee_ref: Some("T-2024-017".into()),
            format: "one_to_one".into(),
            target_group: "refugees".into(),
            requested_on: Some(day("2024-01-10")),
            ..Default::default()
        }
    }

    #[test]
    fn exactly_the_arrows_are_allowed() {
        let allowed = [
            (Requested, Matched),
            (Requested, Cancelled),
            (Matched, Active),
            (Matched, Cancelled),
            (Active, Paused),
            (Paused, Active),
            (Active, Ended),
            (Paused, Ended),
        ];
        for &from in MentorshipStatus::ALL {
            for &to in MentorshipStatus::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from} -> {to}"
                );
            }
        }
    }

    #[test]
    fn a_replacement_moves_forward_only() {
        let mut old = Mentorship::parse(new_input(), day("2024-01-10")).expect("valid");
        let mut new = old.clone();
        new.status = Active;
        assert!(
            new.check_replacing(&old).is_ok(),
            "requested → active, via matched"
        );
        old.status = Ended;
        let e = new.check_replacing(&old).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `status`: cannot move from `ended` to `active`: `ended` is final"
        );
        old.status = Active;
        new.status = Requested;
        let e = new.check_replacing(&old).unwrap_err();
        assert_eq!(
            e.to_string(),
            "field `status`: cannot move from `active` to `requested`; from `active` a \
             transition leads to `paused` or `ended`"
        );
        for &from in MentorshipStatus::ALL {
            assert!(from.can_reach(from));
            for to in from.next() {
                assert!(from.can_reach(to));
            }
        }
        assert!(Paused.can_reach(Active) && Active.can_reach(Paused));
        assert!(!Cancelled.can_reach(Ended) && !Matched.can_reach(Requested));
    }

    #[test]
    fn a_full_life() {
        let mut m = Mentorship::parse(new_input(), day("2024-01-10")).expect("valid");
        assert_eq!(m.status, Requested);
        m.transition(Matched, day("2024-01-20"), None)
            .expect("match");
        m.transition(Active, day("2024-02-01"), None)
            .expect("start");
        m.transition(Paused, day("2024-06-01"), None)
            .expect("pause");
        m.transition(Active, day("2024-07-01"), None)
            .expect("resume");
        assert_eq!(m.started_on, Some(day("2024-02-01")));
        m.transition(Ended, day("2024-12-01"), Some(EndReason::GoalReached))
            .expect("end");
        assert_eq!(m.end_reason, Some(EndReason::GoalReached));
        assert!(m.status.is_final());
    }

    #[test]
    fn an_illegal_move_names_both_states() {
        let mut m = Mentorship::parse(new_input(), day("2024-01-10")).expect("valid");
        let e = m.transition(Ended, day("2024-02-01"), None).unwrap_err();
        assert_eq!(
            e,
            TransitionError::NotAllowed {
                from: Requested,
                to: Ended
            }
        );
        assert_eq!(
            e.to_string(),
            "cannot move from `requested` to `ended`; from `requested` a transition leads to \
             `matched` or `cancelled`"
        );
        assert_eq!(m.status, Requested, "a refused move changes nothing");
    }

    #[test]
    fn matching_needs_a_mentor_and_dates_run_forward() {
        let mut i = new_input();
        i.mentor_id = None;
        let mut m = Mentorship::parse(i, day("2024-01-10")).expect("valid");
        assert_eq!(
            m.transition(Matched, day("2024-02-01"), None),
            Err(TransitionError::NoMentor)
        );
        m.mentor_id = Some(Uuid::nil());
        assert!(matches!(
            m.transition(Matched, day("2023-12-01"), None),
            Err(TransitionError::DateBeforeLast { .. })
        ));
    }

    #[test]
    fn imported_status_needs_matching_dates() {
        let mut i = new_input();
        i.status = Some("active".into());
        let e = Mentorship::parse(i.clone(), day("2024-05-01")).unwrap_err();
        assert!(e.has("matchedOn") && e.has("startedOn"));
        i.matched_on = Some(day("2024-01-20"));
        i.started_on = Some(day("2024-01-15"));
        let e = Mentorship::parse(i.clone(), day("2024-05-01")).unwrap_err();
        assert_eq!(e.reason("startedOn"), Some(&Reason::EndBeforeStart));
        i.started_on = Some(day("2024-02-01"));
        i.end_reason = Some("moved_away".into());
        let e = Mentorship::parse(i.clone(), day("2024-05-01")).unwrap_err();
        assert!(e.has("endReason"));
        i.end_reason = None;
        assert_eq!(
            Mentorship::parse(i, day("2024-05-01"))
                .expect("valid")
                .status,
            Active
        );
    }

    #[test]
    fn bad_enums_and_empty_ref() {
        let mut i = new_input();
        i.format = "trio".into();
        i.target_group = "aliens".into();
        i.mentee_ref = Some(String::new());
        i.status = Some("done".into());
        let e = Mentorship::parse(i, day("2024-05-01")).unwrap_err();
        for f in ["format", "targetGroup", "menteeRef", "status"] {
            assert!(e.has(f), "{f}");
        }
    }
}
