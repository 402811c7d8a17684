"""A model of the money lifecycle, driven by Hypothesis: random sequences of accepting the award,
paying (whole, in parts, too much, the same form twice, after the settlement was submitted),
recording, editing and deleting spending, writing and submitting the settlement, finance judging
lines, returning, approving and recording the refund. Each step calls the services as the views
do (service, then commit; the domain's error class and a rollback where refused), and the model
predicts which steps are refused. After every step the invariants hold:

- paid ≤ award, paid = the sum of the payments, and no instalment is paid above its amount;
- an approved or closed settlement never changes (amounts, lines, judgements, refund);
- every recognised line was judged after its last change;
- refund due = paid + interest − recognised (capped at paid), with the programme's 10원 rule;
- every state change has exactly one audit event, and a refused step leaves none.

One award is reset between examples (its rows deleted; audit events are read from a watermark
on) and walked to a random stage (offered … approved) through the same steps, so that the few
steps after it reach late payments, edits of judged lines and changes after approval. The run is
derandomised so CI sees the same sequences every time. It caught both regressions it guards:
with the late-payment guard or the back-to-review rule switched off it fails within 100 examples.
"""
import os
from collections import Counter
from datetime import date

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import delete, func, select

from blueprints.awards.models import Award
from blueprints.core.audit import AuditEvent
from blueprints.disbursement import services as d
from blueprints.disbursement.models import Disbursement, Payment
from blueprints.settlement import services as s
from blueprints.settlement.models import ActivitySession, DeletedExpense, Expense, Refund, Settlement
from extensions import db
from tests.settlement.conftest import Upload, expense_in, jpeg_bytes

EDITABLE = {None, "draft", "needs_changes"}
# Where an example starts (reached through the same steps): late steps need a few before them.
STAGES = ["offered", "accepted", "spent", "spent", "submitted", "submitted", "returned", "returned", "approved",
          "approved"]
MAX_LINES = 6                     # 6 × 100,000원 < the 800,000원 award: no line is refused for the total
COUNTED = ("award.accepted", "payment.recorded", "disbursement.mid_check", "expense.created", "expense.updated",
           "expense.deleted", "expense.restored", "settlement.saved", "settlement.submitted", "expense.reviewed", "settlement.returned",
           "settlement.approved", "refund.recorded", "settlement.closed")

# Each example starts at a stage of the lifecycle (reached through the same steps) and takes up
# to 8 more steps. Examples: 300 on SQLite, 120 on PostgreSQL (every statement a round trip; the
# suite keeps to its 15 minutes).
# Measured on the 2-core machine: SQLite 200 in 35–48 s and PostgreSQL 100 in 46 s at a load of
# ~4; about twice that at a load of ~12. MONEY_MODEL_EXAMPLES sets the number for a longer run (e.g.
# MONEY_MODEL_EXAMPLES=1000 before a release).
EXAMPLES = int(os.environ.get("MONEY_MODEL_EXAMPLES") or (120 if os.environ.get("TEST_DATABASE_URL") else 300))
MODEL_SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=8,
                          deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                          # Shrinking a failure through the database can take many minutes: on
                          # demand only (MONEY_MODEL_SHRINK=1), CI prints the failing steps as run.
                          phases=[Phase.explicit, Phase.reuse, Phase.generate]
                          + ([Phase.shrink] if os.environ.get("MONEY_MODEL_SHRINK") else []))


class MoneyLifecycle(RuleBasedStateMachine):
    world: dict = {}   # set by the test: ids of the award and the people

    # Set-up ----------------------------------------------------------------------------------

    @initialize(interest=st.sampled_from([0, 0, 1_234, 7, 55_555]), truncate=st.booleans(),
                stage=st.sampled_from(STAGES), amounts=st.lists(st.integers(1_000, 100_000), min_size=2, max_size=2),
                percent=st.integers(1, 99))
    def fresh_award(self, interest, truncate, stage, amounts, percent):
        """The shared award back to 'offered', with nothing under it."""
        w = self.world
        db.session.rollback()
        award_id = w["award_id"]
        settlement_ids = select(Settlement.id).where(Settlement.award_id == award_id)
        db.session.execute(delete(Refund).where(Refund.settlement_id.in_(settlement_ids)))
        db.session.execute(delete(Settlement).where(Settlement.award_id == award_id))
        db.session.execute(delete(Expense).where(Expense.award_id == award_id))
        db.session.execute(delete(DeletedExpense).where(DeletedExpense.award_id == award_id))
        db.session.execute(delete(ActivitySession).where(ActivitySession.award_id == award_id))
        disb_ids = select(Disbursement.id).where(Disbursement.award_id == award_id)
        db.session.execute(delete(Payment).where(Payment.disbursement_id.in_(disb_ids)))
        db.session.execute(delete(Disbursement).where(Disbursement.award_id == award_id))
        award = db.session.get(Award, award_id)
        award.status = "offered"
        rules = award.programme.rules
        if (rules.get("settlement") or {}).get("refund_truncate_10won") != truncate:
            award.programme.rules = {**rules, "settlement": {**(rules.get("settlement") or {}),
                                                             "refund_truncate_10won": truncate}}
        db.session.commit()
        db.session.expire_all()
        self.watermark = db.session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
        self.expected = Counter()
        self.interest, self.truncate = interest, truncate
        # The model.
        self.award_status = "offered"
        self.settlement_status = None       # None until the group opens its settlement
        self.written = False                # the report (and interest with its evidence) saved
        self.mid_checked = False
        self.planned: dict[int, int] = {}   # instalment -> amount in the schedule
        self.paid: dict[int, int] = {}
        self.lines: dict[int, dict] = {}    # expense id -> {amount, review}
        self.deleted: list[tuple[int, dict]] = []   # (DeletedExpense id, the line) that an undo may put back
        self.used_keys: list[tuple[str, int]] = []
        self.frozen = None
        self.n = 0
        self.start_at(stage, amounts, percent)

    def start_at(self, stage, amounts, percent):
        """Walk the award to ``stage`` through the same steps (so the few steps after reach late
        payments, edits of judged lines, changes after approval)."""
        if stage == "offered":
            return
        self.accept()
        if stage == "accepted":
            return
        self.pay(instalment=1, portion="part", percent=percent)
        for amount in amounts:
            self.record_expense(amount=amount)
        if stage == "spent":
            return
        self.write_settlement()
        self.submit()
        first, second = sorted(self.lines)
        if stage == "submitted":
            return
        self._review(first, "recognised")
        self._review(second, "needs_fix" if stage == "returned" else "recognised")
        if stage == "returned":
            self.return_for_changes()
        elif stage == "approved":
            self.approve()

    # Helpers ---------------------------------------------------------------------------------

    @property
    def award(self) -> Award:
        return db.session.get(Award, self.world["award_id"])

    def user(self, name):
        from blueprints.accounts.models import User

        return db.session.get(User, self.world[name])

    def attempt(self, call, allowed: bool, error, events=()):
        """Call a service as a view does: commit on success, roll back on the domain error. The
        model's prediction must match, and only an accepted step adds its audit events. Returns
        the service's result (True for none) when accepted, None when refused."""
        try:
            result = call()
        except error:
            db.session.rollback()
            assert not allowed, "the model expected this step to be accepted"
            return None
        db.session.commit()
        assert allowed, "the model expected this step to be refused"
        self.expected.update(events)
        return True if result is None else result

    def editable(self) -> bool:
        return self.award_status != "offered" and self.settlement_status in EDITABLE

    def receipt(self):
        self.n += 1
        return Upload(jpeg_bytes(size=(24, 16), color=(self.n * 7 % 256, self.n * 13 % 256, 90)), f"r{self.n}.jpg")

    # Acceptance and payments -----------------------------------------------------------------

    @precondition(lambda self: self.award_status == "offered")
    @rule()
    def accept(self):
        allowed = self.award_status == "offered"
        disb = self.attempt(lambda: d.accept_award(self.award, bank="신한은행", account_number="110-123-456789",
                                                   holder="햇살", user=self.user("leader")),
                            allowed, d.DisbursementError, ["award.accepted"])
        if disb is not None:
            self.award_status = "accepted"
            self.planned = {row["instalment"]: row["amount_won"] for row in disb.schedule}
            self.paid = {k: 0 for k in self.planned}

    @precondition(lambda self: self.award_status != "offered")
    @rule(instalment=st.sampled_from([1, 2]), portion=st.sampled_from(["whole", "part", "part", "over"]),
          percent=st.integers(1, 99))
    def pay(self, instalment, portion, percent):
        left = self.planned[instalment] - self.paid[instalment]
        amount = {"whole": left, "part": max(left * percent // 100, 1), "over": left + 1 + percent}[portion]
        allowed = (self.award_status in {"accepted", "paid"} and self.settlement_status in {None, "draft"}
                   and left > 0 and amount <= left and (instalment == 1 or self.mid_checked))
        disb = self.award.disbursement
        key = d.payment_key_nonce(disb, d.new_payment_key(disb))   # a fresh form, as the page makes it
        made = self.attempt(lambda: d.record_payment(disb, instalment=instalment, amount_won=amount,
                                                     paid_on=date(2027, 3, 28), reference="", idempotency_key=key,
                                                     user=self.user("finance")),
                            allowed, d.DisbursementError, ["payment.recorded"])
        if made is not None:
            assert made[1] is True
            self.paid[instalment] += amount
            self.used_keys.append((key, made[0].id))
            if self.award_status == "accepted":
                self.award_status = "paid"

    @precondition(lambda self: self.used_keys)
    @rule(data=st.data())
    def same_form_again(self, data):
        """A double submit: the same key pays nothing and answers with the first payment."""
        key, payment_id = data.draw(st.sampled_from(self.used_keys))
        payment, created = d.record_payment(self.award.disbursement, instalment=1, amount_won=1,
                                            paid_on=date(2027, 3, 28), reference="", idempotency_key=key,
                                            user=self.user("finance"))
        db.session.commit()
        assert (payment.id, created) == (payment_id, False)

    @precondition(lambda self: self.award_status != "offered" and not self.mid_checked)
    @rule()
    def mid_check(self):
        self.attempt(lambda: d.pass_mid_check(self.award.disbursement, user=self.user("finance")), True,
                     d.DisbursementError, ["disbursement.mid_check"])
        self.mid_checked = True

    # Spending --------------------------------------------------------------------------------

    @precondition(lambda self: len(self.lines) < MAX_LINES)
    @rule(amount=st.integers(1_000, 100_000))
    def record_expense(self, amount):
        allowed = self.editable()
        row = self.attempt(lambda: s.save_expense(self.award, expense_in(description=f"재료 {self.n}", amount_won=amount),
                                                  user=self.user("treasurer"), receipt=self.receipt()),
                           allowed, s.SettlementError, ["expense.created"])
        if row is not None:
            self.lines[row.id] = {"amount": amount, "review": "pending", "description": row.description}

    def _line(self, data):
        expense_id = data.draw(st.sampled_from(sorted(self.lines)))
        return expense_id, db.session.get(Expense, expense_id)

    @precondition(lambda self: self.lines)
    @rule(data=st.data(), change=st.sampled_from(["amount", "description", "receipt", "nothing"]),
          amount=st.integers(1_000, 100_000))
    def edit_expense(self, data, change, amount):
        expense_id, row = self._line(data)
        line = self.lines[expense_id]
        new_amount = amount if change == "amount" and amount != line["amount"] else line["amount"]
        description = f"{line['description']} (고침)" if change == "description" else line["description"]
        changed = change == "receipt" or new_amount != line["amount"] or description != line["description"]
        allowed = self.editable()
        saved = self.attempt(lambda: s.save_expense(self.award, expense_in(description=description, amount_won=new_amount),
                                                    user=self.user("treasurer"), expense=row,
                                                    receipt=self.receipt() if change == "receipt" else None),
                             allowed, s.SettlementError, ["expense.updated"])
        if saved is not None:
            line.update(amount=new_amount, description=description)
            if changed or line["review"] == "needs_fix":
                line["review"] = "pending"

    @precondition(lambda self: self.lines)
    @rule(data=st.data())
    def delete_expense(self, data):
        expense_id, row = self._line(data)
        trash = self.attempt(lambda: s.delete_expense(row, user=self.user("treasurer"), undo_seconds=3600),
                             self.editable(), s.SettlementError, ["expense.deleted"])
        if trash:
            self.deleted.append((trash.id, self.lines.pop(expense_id)))

    @precondition(lambda self: self.deleted and len(self.lines) < MAX_LINES)
    @rule(data=st.data())
    def undo_delete(self, data):
        """The line comes back as it was (amount and judgement) while the settlement is editable."""
        trash_id, line = data.draw(st.sampled_from(self.deleted))
        trash = db.session.get(DeletedExpense, trash_id)
        row = self.attempt(lambda: s.undo_delete(trash, user=self.user("treasurer")), self.editable(),
                           s.SettlementError, ["expense.restored"])
        if row is not None:
            self.deleted.remove((trash_id, line))
            self.lines[row.id] = line
            assert (row.amount_won, row.review_status) == (line["amount"], line["review"])

    # The settlement --------------------------------------------------------------------------

    @precondition(lambda self: self.award_status != "offered")
    @rule()
    def write_settlement(self):
        """The group opens its settlement (created as a draft) and saves report and interest."""
        allowed = self.settlement_status in EDITABLE

        def write():
            settlement = s.settlement_for(self.award, create=True)
            s.save_settlement(settlement, report_text="봄 숲놀이를 했습니다.", interest_won=self.interest,
                              interest_file=self.receipt() if self.interest else None, user=self.user("treasurer"))
            return settlement

        if self.attempt(write, allowed, s.SettlementError, ["settlement.saved"]) is not None:
            self.written = True
            self.settlement_status = self.settlement_status or "draft"

    @precondition(lambda self: self.settlement_status is not None)
    @rule()
    def submit(self):
        allowed = (self.settlement_status in EDITABLE and self.written and bool(self.lines)
                   and all(line["review"] != "needs_fix" for line in self.lines.values()))
        if self.attempt(lambda: s.submit(self.award.settlement, user=self.user("treasurer")), allowed,
                        s.SettlementError, ["settlement.submitted"]) is not None:
            self.settlement_status, self.award_status = "submitted", "settling"

    @precondition(lambda self: self.lines)
    @rule(data=st.data(), decision=st.sampled_from(["recognised", "recognised", "not_recognised", "needs_fix"]))
    def review_line(self, data, decision):
        self._review(self._line(data)[0], decision)

    def _review(self, expense_id, decision):
        row = db.session.get(Expense, expense_id)
        allowed = self.settlement_status == "submitted"
        if self.attempt(lambda: s.review_line(row, decision=decision, reason="" if decision == "recognised" else "사유",
                                              user=self.user("finance")),
                        allowed, s.SettlementError, ["expense.reviewed"]) is not None:
            self.lines[expense_id]["review"] = decision

    @precondition(lambda self: self.settlement_status is not None)
    @rule()
    def return_for_changes(self):
        allowed = self.settlement_status == "submitted"
        if self.attempt(lambda: s.return_for_changes(self.award.settlement, message="고쳐 주세요", user=self.user("finance")),
                        allowed, s.SettlementError, ["settlement.returned"]) is not None:
            self.settlement_status = "needs_changes"

    def refund_due(self) -> int:
        paid = sum(self.paid.values())
        recognised = sum(line["amount"] for line in self.lines.values() if line["review"] == "recognised")
        exact = paid + self.interest - min(recognised, paid)
        return exact - exact % 10 if self.truncate else exact

    @precondition(lambda self: self.settlement_status is not None)
    @rule()
    def approve(self):
        allowed = (self.settlement_status == "submitted"
                   and all(line["review"] in {"recognised", "not_recognised"} for line in self.lines.values()))
        closes = self.refund_due() == 0
        events = ["settlement.approved"] + (["settlement.closed"] if closes else [])
        if self.attempt(lambda: s.approve(self.award.settlement, user=self.user("finance")), allowed,
                        s.SettlementError, events) is not None:
            self.settlement_status = "closed" if closes else "approved"
            self.award_status = "closed" if closes else "settled"

    @precondition(lambda self: self.settlement_status is not None)
    @rule(right=st.booleans(), received_on=st.sampled_from([date(2027, 6, 10), date(2027, 6, 10), date(2027, 4, 2),
                                                             date(2027, 6, 11)]))
    def record_refund(self, right, received_on):
        """The amount due, or 10원 more; received today, earlier, or tomorrow (not arrived yet:
        today is 2027-06-10 in these tests)."""
        settlement = self.award.settlement
        due = settlement.refund_due_won or 0
        amount = due if right else due + 10
        allowed = self.settlement_status == "approved" and right and received_on <= date(2027, 6, 10)
        if self.attempt(lambda: s.record_refund(settlement, amount_won=amount, received_on=received_on,
                                                depositor="햇살(김대표)", user=self.user("finance")),
                        allowed, s.SettlementError, ["refund.recorded", "settlement.closed"]) is not None:
            self.settlement_status, self.award_status = "closed", "closed"

    # Invariants (one pass, a few plain queries: they run after every step) ------------------

    @invariant()
    def invariants_hold(self):
        if not hasattr(self, "watermark"):
            return
        award_id = self.world["award_id"]
        award_status, amount = db.session.execute(select(Award.status, Award.amount_won)
                                                  .where(Award.id == award_id)).one()
        assert award_status == self.award_status
        self.paid_within_the_award(award_id, amount)
        lines = {row.id: row for row in db.session.execute(
            select(Expense.id, Expense.amount_won, Expense.description, Expense.review_status, Expense.receipt_file_id,
                   Expense.reviewed_at).where(Expense.award_id == award_id).order_by(Expense.id))}
        assert set(lines) == set(self.lines)
        for expense_id, line in self.lines.items():
            assert (lines[expense_id].amount_won, lines[expense_id].review_status) == (line["amount"], line["review"])
        settlement = db.session.execute(
            select(Settlement.id, Settlement.status, Settlement.interest_won, Settlement.recognised_won,
                   Settlement.refund_due_won, Settlement.approved_at).where(Settlement.award_id == award_id)).one_or_none()
        assert (settlement.status if settlement else None) == self.settlement_status
        if self.settlement_status in {"approved", "closed"}:
            self.approved_settlement_never_changes(settlement, lines)
        events = db.session.execute(select(AuditEvent.id, AuditEvent.action, AuditEvent.object_type,
                                           AuditEvent.object_id, AuditEvent.changes)
                                    .where(AuditEvent.id > self.watermark).order_by(AuditEvent.id)).all()
        self.recognised_lines_were_judged_after_their_last_change(events)
        counts = Counter(e.action for e in events if e.action in COUNTED)
        assert counts == +self.expected, "every state change has one audit event, a refused step none"

    def paid_within_the_award(self, award_id, amount):
        disb = db.session.execute(select(Disbursement.id, Disbursement.paid_won, Disbursement.schedule)
                                  .where(Disbursement.award_id == award_id)).one_or_none()
        if disb is None:
            assert sum(self.paid.values()) == 0
            return
        by_instalment = dict(db.session.execute(
            select(Payment.instalment, func.sum(Payment.amount_won)).where(Payment.disbursement_id == disb.id)
            .group_by(Payment.instalment)).all())
        assert disb.paid_won == sum(by_instalment.values()) == sum(self.paid.values()) <= amount
        for step in disb.schedule:
            paid = int(by_instalment.get(step["instalment"], 0))
            assert paid == self.paid[step["instalment"]] and 0 <= paid <= step["amount_won"]

    def approved_settlement_never_changes(self, settlement, lines):
        # refund due = paid + interest − recognised (capped at paid), with the programme's rounding
        assert settlement.refund_due_won == self.refund_due()
        assert settlement.recognised_won == min(sum(x["amount"] for x in self.lines.values()
                                                    if x["review"] == "recognised"), sum(self.paid.values()))
        state = (sum(self.paid.values()), settlement.interest_won, settlement.recognised_won, settlement.refund_due_won,
                 settlement.approved_at, tuple(tuple(row) for row in lines.values()))
        if self.frozen is None:
            self.frozen = state
        assert state == self.frozen, "an approved settlement changed"
        refund = db.session.scalar(select(Refund.amount_won).where(Refund.settlement_id == settlement.id))
        assert refund is None or (self.settlement_status == "closed" and refund == settlement.refund_due_won)

    def recognised_lines_were_judged_after_their_last_change(self, events):
        last_change, last_review = {}, {}
        for event in events:
            if event.object_type != "expense":
                continue
            if event.action == "expense.reviewed":
                last_review[event.object_id] = event.id
            elif event.action in {"expense.created", "expense.updated"} and _changed(event):
                last_change[event.object_id] = event.id
        for expense_id, line in self.lines.items():
            if line["review"] == "recognised":
                key = str(expense_id)
                assert last_review.get(key, 0) > last_change.get(key, 0), f"line {expense_id} changed after its review"


def _changed(event) -> bool:
    """Did this created/updated event change the line (fields or receipt)?"""
    import json

    if event.action == "expense.created":
        return True
    changes = json.loads(event.changes or "{}")
    before, after = changes.get("before") or {}, changes.get("after") or {}
    if "receipt" in after:
        return True
    return any(before.get(k) != after.get(k) for k in set(before) | set(after) if k != "review")


def test_money_lifecycle_model(awarded, finance):
    leader, treasurer, award = awarded()
    rules = award.programme.rules
    award.programme.rules = {**rules, "disbursement": {**rules["disbursement"], "mode": "split"}}
    db.session.commit()
    MoneyLifecycle.world = {"award_id": award.id, "leader": leader.id, "treasurer": treasurer.id,
                            "finance": finance.id}
    run_state_machine_as_test(MoneyLifecycle, settings=MODEL_SETTINGS)
