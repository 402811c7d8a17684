"""A model of review and selection, driven by Hypothesis: random sequences of assigning (by hand,
automatically), scoring and submitting, declaring conflicts, a household of a group taking a
reviewer's number after the assignment, reopening and unassigning, making scenarios, selecting
and changing amounts, and publishing (also twice, and a later scenario). Each step calls the
services as the views do (service, then commit; the domain's error and a rollback where
refused). After every step:

- the awards of the programme never exceed its budget, and no scenario's selection does;
- an application has at most one award, only a selected application has one, and its amount
  is its entry's in the one published scenario;
- a reviewer with a conflict with an application today (recomputed here from the rows) is
  never offered it: conflicts_now names the assignment (the scoring page and save refuse it);
- no assignment is ever made while such a conflict holds, and a declared conflict leaves no
  open or counted review of that reviewer while the application is in review.

One programme with four applications and four reviewers is reset between examples.
"""
import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, func, select

from blueprints.applications.models import Application, ApplicationState
from blueprints.awards import services as awards
from blueprints.awards.models import Award
from blueprints.groups.models import GroupMember
from blueprints.programmes.models import Programme
from blueprints.review import services
from blueprints.review.conflicts import MemberInfo, GroupInfo, ReviewerInfo, conflict_reasons
from blueprints.review.models import (AssignmentState, ConflictDeclaration, ReviewAssignment, Score, ScenarioState,
                                      SelectionEntry, SelectionScenario)
from extensions import db
from tests.review.conftest import close_window

# The same (derandomised) examples on both databases: SQLite runs 60, PostgreSQL the first 40 of
# them (every statement a round trip there; the suite keeps to its 15 minutes). REVIEW_MODEL_EXAMPLES
# sets the number for a longer run.
EXAMPLES = int(os.environ.get("REVIEW_MODEL_EXAMPLES") or (40 if os.environ.get("TEST_DATABASE_URL") else 60))
MODEL_SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=10, deadline=None, derandomize=True,
                          database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                          phases=[Phase.explicit, Phase.reuse, Phase.generate]
                          + ([Phase.shrink] if os.environ.get("REVIEW_MODEL_SHRINK") else []))
STAGES = ["none", "assigned", "assigned", "submitted", "submitted", "scenario", "published"]
REFUSED = (services.ReviewError, awards.AwardError)


class ReviewLifecycle(RuleBasedStateMachine):
    world: dict = {}

    @initialize(budget_share=st.sampled_from([0.3, 0.5, 0.8, 1.5]), stage=st.sampled_from(STAGES),
                totals=st.lists(st.integers(0, 100), min_size=16, max_size=16))
    def fresh_programme(self, budget_share, stage, totals):
        """The programme back to four submitted applications, then walked to ``stage`` through the
        same steps (so that the few steps after reach late conflicts, changes after publishing)."""
        self.reset(budget_share)
        if stage == "none":
            return
        self.auto_assign()
        if stage == "assigned":
            return
        self.everyone_submits(totals)
        if stage == "submitted":
            return
        self.make_scenario(None)
        if stage == "published":
            self.publish(-1)

    def reset(self, budget_share):
        w = self.world
        db.session.rollback()
        pid = w["programme"]
        db.session.execute(delete(Award).where(Award.programme_id == pid))
        scenario_ids = select(SelectionScenario.id).where(SelectionScenario.programme_id == pid)
        db.session.execute(delete(SelectionEntry).where(SelectionEntry.scenario_id.in_(scenario_ids)))
        db.session.execute(delete(SelectionScenario).where(SelectionScenario.programme_id == pid))
        assignment_ids = select(ReviewAssignment.id).where(ReviewAssignment.programme_id == pid)
        db.session.execute(delete(Score).where(Score.assignment_id.in_(assignment_ids)))
        db.session.execute(delete(ReviewAssignment).where(ReviewAssignment.programme_id == pid))
        db.session.execute(delete(ConflictDeclaration).where(ConflictDeclaration.application_id.in_(w["apps"])))
        for member_id, phone in w["phones"].items():
            db.session.get(GroupMember, member_id).phone = phone
        for app_id in w["apps"]:
            db.session.get(Application, app_id).status = ApplicationState.submitted
        programme = db.session.get(Programme, pid)
        programme.results_published_at = None
        requested = sum(db.session.get(Application, a).requested_won for a in w["apps"])
        programme.budget_total_won = int(requested * budget_share) // 10_000 * 10_000
        db.session.commit()
        db.session.expire_all()

    # Helpers ---------------------------------------------------------------------------------

    @property
    def programme(self) -> Programme:
        return db.session.get(Programme, self.world["programme"])

    def person(self, user_id):
        from blueprints.accounts.models import User

        return db.session.get(User, user_id)

    def attempt(self, call):
        try:
            call()
        except REFUSED:
            db.session.rollback()
            return False
        db.session.commit()
        return True

    def assignments(self):
        return db.session.scalars(select(ReviewAssignment).where(
            ReviewAssignment.programme_id == self.world["programme"]).order_by(ReviewAssignment.id)).all()

    def conflicted(self, application, reviewer) -> list[str]:
        """The conflict recomputed from the rows (not through queries): members, declaration."""
        group = application.group
        members = tuple(MemberInfo(m.user_id, m.phone, m.email or "") for m in db.session.scalars(
            select(GroupMember).where(GroupMember.group_id == group.id)))
        declared = db.session.scalar(select(ConflictDeclaration.kind).where(
            ConflictDeclaration.application_id == application.id, ConflictDeclaration.reviewer_id == reviewer.id))
        return conflict_reasons(ReviewerInfo(reviewer.id, reviewer.name, reviewer.phone or "", reviewer.email),
                                GroupInfo(group.district, group.dong, members), declared=declared)

    # Steps -----------------------------------------------------------------------------------

    @rule(a=st.integers(0, 3), r=st.integers(0, 3))
    def assign(self, a, r):
        application = db.session.get(Application, self.world["apps"][a])
        reviewer = self.person(self.world["reviewers"][r])
        conflict = bool(self.conflicted(application, reviewer))
        made = self.attempt(lambda: services.assign(application, reviewer, user=self.person(self.world["staff"])))
        assert not (made and conflict), "a reviewer with a conflict was assigned"

    @rule()
    def auto_assign(self):
        before = {i.id for i in self.assignments()}
        self.attempt(lambda: services.auto_assign(self.programme, user=self.person(self.world["staff"])))
        for item in self.assignments():
            if item.id not in before:
                assert not self.conflicted(item.application, item.reviewer), "automatic assignment with a conflict"

    @rule(i=st.integers(0, 15), values=st.lists(st.sampled_from(["0", "5", "10", "20", "12", "", "7.5", "-1", "99"]),
                                                min_size=5, max_size=5), submit=st.booleans())
    def score(self, i, values, submit):
        items = self.assignments()
        if not items:
            return
        item = items[i % len(items)]
        rubric = services.rubric(self.programme)
        raw = {c["code"]: v for c, v in zip(rubric, values)}
        check = services.check_for(item, raw, {c["code"]: "의견" for c in rubric}, final=submit)
        was_conflicted = bool(services.conflicts_now([item]))
        if not check.ok:
            return
        saved = self.attempt(lambda: services.save_scores(item, check, user=item.reviewer, submit=submit))
        assert not (saved and was_conflicted), "scores saved by a reviewer with a conflict"

    @rule(totals=st.lists(st.integers(0, 100), min_size=16, max_size=16))
    def everyone_submits(self, totals):
        """Every open review the reviewer may still give is submitted (what the reminders ask for)."""
        rubric = services.rubric(self.programme)
        for item, total in zip(self.assignments(), totals):
            if item.status != AssignmentState.assigned or services.conflicts_now([item]):
                continue
            values, left = {}, total
            for c in rubric:
                values[c["code"]] = str(min(left, int(c["max"])))
                left -= int(values[c["code"]])
            check = services.check_for(item, values, {c["code"]: "의견" for c in rubric}, final=True)
            self.attempt(lambda: services.save_scores(item, check, user=item.reviewer, submit=True))

    @rule(totals=st.lists(st.integers(0, 100), min_size=16, max_size=16), quota=st.sampled_from([None, 1]))
    def run_to_publication(self, totals, quota):
        """The usual way through: 자동 배정, every review in, a scenario, 결과 공개 (each may be refused)."""
        self.auto_assign()
        self.everyone_submits(totals)
        self.make_scenario(quota)
        self.publish(-1)

    @rule(a=st.integers(0, 3), r=st.integers(0, 3), kind=st.sampled_from(["exclusion", "challenge", "recusal"]),
          on_assignment=st.integers(0, 15) | st.none())
    def declare_conflict(self, a, r, kind, on_assignment):
        """A conflict declared for an application and a reviewer; mostly one already on it."""
        application = db.session.get(Application, self.world["apps"][a])
        reviewer = self.person(self.world["reviewers"][r])
        items = self.assignments()
        if on_assignment is not None and items:
            item = items[on_assignment % len(items)]
            application, reviewer = item.application, item.reviewer
        self.attempt(lambda: services.declare_conflict(application, reviewer, kind=kind, reason="사유",
                                                       user=self.person(self.world["staff"])))

    @rule(a=st.integers(0, 3), r=st.integers(0, 3))
    def household_takes_the_reviewers_number(self, a, r):
        """A household of the group is given the reviewer's mobile (after any assignment)."""
        application = db.session.get(Application, self.world["apps"][a])
        member = application.group.members[-1]
        member.phone = self.person(self.world["reviewers"][r]).phone
        db.session.commit()

    @rule(i=st.integers(0, 15), action=st.sampled_from(["reopen", "unassign"]))
    def staff_undo(self, i, action):
        items = self.assignments()
        if not items:
            return
        item = items[i % len(items)]
        staff = self.person(self.world["staff"])
        if not item.can(staff, action):
            return
        if action == "reopen":
            self.attempt(lambda: services.reopen(item, reason="다시", user=staff))
        else:
            self.attempt(lambda: services.unassign(item, user=staff))

    @rule(quota=st.sampled_from([None, None, 1, 2]))
    def make_scenario(self, quota):
        self.attempt(lambda: services.create_scenario(self.programme, name="안", quota_per_district=quota,
                                                      user=self.person(self.world["staff"])))

    @rule(s=st.integers(0, 5), e=st.integers(0, 3), selected=st.booleans(),
          amount=st.sampled_from([None, 10_000, 300_000, 990_000, 5_000_000, 12_345]))
    def adjust(self, s, e, selected, amount):
        scenarios = db.session.scalars(select(SelectionScenario).where(
            SelectionScenario.programme_id == self.world["programme"]).order_by(SelectionScenario.id)).all()
        if not scenarios:
            return
        scenario = scenarios[s % len(scenarios)]
        if not scenario.entries:
            return
        entry = scenario.entries[e % len(scenario.entries)]
        self.attempt(lambda: services.adjust_entry(entry, selected=selected,
                                                   amount_won=entry.proposed_won if amount is None else amount,
                                                   reason="조정", user=self.person(self.world["staff"])))

    @rule(s=st.integers(-1, 5))
    def publish(self, s):
        scenarios = db.session.scalars(select(SelectionScenario).where(
            SelectionScenario.programme_id == self.world["programme"]).order_by(SelectionScenario.id)).all()
        if not scenarios:
            return
        scenario = scenarios[s % len(scenarios)]
        self.attempt(lambda: awards.publish_decision(scenario, user=self.person(self.world["staff"])))

    # Invariants ------------------------------------------------------------------------------

    @invariant()
    def within_the_budget(self):
        db.session.expire_all()
        programme = self.programme
        total = db.session.scalar(select(func.coalesce(func.sum(Award.amount_won), 0)).where(
            Award.programme_id == programme.id))
        assert total <= programme.budget_total_won
        for scenario in db.session.scalars(select(SelectionScenario).where(SelectionScenario.programme_id == programme.id)):
            assert scenario.total_selected_won <= programme.budget_total_won

    @invariant()
    def one_award_per_selected_application(self):
        pid = self.world["programme"]
        published = db.session.scalars(select(SelectionScenario).where(
            SelectionScenario.programme_id == pid, SelectionScenario.status == ScenarioState.published)).all()
        assert len(published) <= 1
        by_app = {}
        for award in db.session.scalars(select(Award).where(Award.programme_id == pid)):
            assert award.application_id not in by_app
            by_app[award.application_id] = award
            assert award.application.status == ApplicationState.selected
        for app_id in self.world["apps"]:
            application = db.session.get(Application, app_id)
            assert (application.status == ApplicationState.selected) == (app_id in by_app)
        if published:
            chosen = {e.application_id: e.amount_won for e in published[0].entries if e.selected}
            assert {a: award.amount_won for a, award in by_app.items()} == chosen

    @invariant()
    def a_conflict_keeps_the_reviewer_away(self):
        items = self.assignments()
        flagged = services.conflicts_now(items)
        for item in items:
            if item.status == AssignmentState.declined:
                continue
            if self.conflicted(item.application, item.reviewer):
                assert item.id in flagged, "the reviewer would still see an application they have a conflict with"
            declared = db.session.scalar(select(ConflictDeclaration.id).where(
                ConflictDeclaration.application_id == item.application_id,
                ConflictDeclaration.reviewer_id == item.reviewer_id))
            if declared and item.application.status == ApplicationState.under_review:
                assert False, "a declared conflict left an open or counted review"


def test_review_and_selection_model(submitted, make_reviewers, staff):
    programme, apps = submitted(4)
    close_window(programme)
    people = make_reviewers(4, prefix="m")
    db.session.commit()
    ReviewLifecycle.world = {
        "programme": programme.id, "apps": [a.id for a in apps], "reviewers": [p.id for p in people],
        "staff": staff.id, "phones": {a.group.members[-1].id: a.group.members[-1].phone for a in apps}}
    run_state_machine_as_test(ReviewLifecycle, settings=MODEL_SETTINGS)
