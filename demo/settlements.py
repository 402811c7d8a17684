"""Demo data for a programme in its activity period (part of `flask --app app demo`): its
twelve demo groups were awarded, paid, spent with receipt photos (generated images) and some
settled early — settlements in every state, several approved and closed, one with 60 lines.
The dates are relative to the day the demo is built (Asia/Seoul): the activity period began
five months ago and ends in a month, so on that day the 회계 can still record spending, finance
can pay the group that accepted, a draft settlement can be submitted and a submitted one
reviewed. Safe to rerun: nothing is added when the programme already has awards."""
from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from blueprints.core.timeutil import kst_datetime, today_kst
from extensions import db

TITLE = "공동육아 자조모임 지원사업 (집행·정산 데모)"
# (state, number of expense lines) per demo group, in the demo's group order.
PLAN = [("paid", 8), ("approved", 60), ("closed", 14), ("submitted", 12), ("needs_changes", 10), ("closed", 9),
        ("approved", 11), ("draft", 6), ("resubmitted", 15), ("accepted", 0), ("offered", 0), ("closed", 12)]
SHOPS = [("materials", "알파문구 망원점", "만들기 재료(색종이·점토)", 48_000), ("books", "동네책방 봄날", "그림책 4권", 58_000),
         ("snacks", "과일가게 싱싱", "과일 간식", 30_000), ("program_fee", "숲체험학교", "숲체험 참가비", 100_000),
         ("materials", "다이소 불광점", "물감·붓", 22_000), ("snacks", "동네빵집", "아이 간식 빵", 25_000)]
BIZ_NOS = ["124-82-10324", "220-81-62517", "101-81-29589", "211-88-06131", "105-87-00121"]


class _Upload(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.filename = name


def receipt_image(vendor: str, item: str, amount: int, day: date, biz_no: str) -> bytes:
    """A receipt-like JPEG with the shop, item and amount written in the Korean font."""
    from PIL import Image, ImageDraw, ImageFont

    font_path = Path(current_app.static_folder) / "vendor" / "pretendard" / "PretendardGOV-Regular.otf"
    try:
        big, small = ImageFont.truetype(str(font_path), 34), ImageFont.truetype(str(font_path), 24)
    except OSError:
        big = small = ImageFont.load_default()
    image = Image.new("RGB", (600, 820), (252, 250, 244))
    draw = ImageDraw.Draw(image)
    y = 40
    for text, font in ((vendor, big), (f"사업자 {biz_no}", small), (f"{day:%Y-%m-%d} 14:{day.day:02d}", small),
                       ("-" * 40, small), (item, small), (f"합계 {amount:,}원", big), ("신용카드 승인", small),
                       (f"승인번호 {abs(hash((vendor, amount))) % 10**8:08d}", small), ("감사합니다", small)):
        draw.text((40, y), text, fill=(30, 30, 30), font=font)
        y += 70
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def demo_settlements(users: dict, rng: random.Random | None = None) -> None:
    from blueprints.applications.checks import grant_limit
    from blueprints.applications.models import Application, BudgetLine
    from blueprints.awards.conditions import conditions_from_rules
    from blueprints.awards.models import Award
    from blueprints.disbursement import services as d
    from blueprints.groups.models import Group
    from blueprints.programmes.defaults import programme_fields_from_defaults
    from blueprints.programmes.models import Programme

    from blueprints.settlement import services as s
    from blueprints.settlement.checks import ExpenseIn

    rng = rng or random.Random(2026)
    programme = db.session.scalar(select(Programme).where(Programme.title == TITLE))
    if programme is not None and db.session.scalar(select(Award.id).where(Award.programme_id == programme.id)):
        return
    if programme is None:
        fields = programme_fields_from_defaults()
        fields.update(title=TITLE, year=day(-160).year, opens_at=at(-200, 9), closes_at=at(-185, 18),
                      review_from=day(-184), review_to=day(-174), activity_start=day(-160),
                      activity_end=day(30), settlement_due=day(60),
                      # its awards below were decided when the results went out (the public page shows them)
                      results_published_at=at(-170, 10))
        programme = Programme(**fields)
        db.session.add(programme)
        db.session.flush()
    finance, staff = users["finance@demo.kr"], users["staff@demo.kr"]
    groups = db.session.scalars(select(Group).order_by(Group.id)).all()[:len(PLAN)]
    for rank, (group, (state, n_lines)) in enumerate(zip(groups, PLAN), 1):
        leader = group.officer("leader").user
        treasurer_member = group.officer("treasurer")
        treasurer = treasurer_member.user if treasurer_member and treasurer_member.user else leader
        # The amount the group's household tier allows: the programme's own rule.
        amount = grant_limit(programme.rules, len(group.members), programme.max_per_group_won)
        application = Application(group_id=group.id, programme_id=programme.id, status="selected",
                                  submitted_at=at(-190, 10), submission_count=1,
                                  purpose="이웃 가정이 함께 놀고 배우는 공동육아", need="돌봄 공백을 이웃과 함께 메웁니다",
                                  other_funding=False, requested_won=amount, created_by_id=leader.id)
        for code, share, item in (("program_fee", 0.4, "숲체험 참가비"), ("materials", 0.25, "만들기 재료"),
                                  ("books", 0.15, "그림책"), ("snacks", 0.2, "간식")):
            part = int(amount * share)
            application.lines.append(BudgetLine(category=code, item=item, unit_price_won=part, quantity=1, amount_won=part))
        db.session.add(application)
        db.session.flush()
        award = Award(application_id=application.id, programme_id=programme.id, amount_won=amount, rank=rank,
                      conditions=conditions_from_rules(programme.rules, activity_start=programme.activity_start,
                                                       activity_end=programme.activity_end),
                      decided_at=at(-170, 10), decided_by_id=staff.id)
        db.session.add(award)
        db.session.flush()
        if state == "offered":
            continue
        disb = d.accept_award(award, bank=rng.choice(["KB국민은행", "신한은행", "NH농협은행"]),
                              account_number=f"{rng.randint(100, 999)}{rng.randint(10**8, 10**9 - 1)}",
                              holder=group.name, user=leader)
        if state == "accepted":
            continue
        d.record_payment(disb, instalment=1, amount_won=amount, paid_on=day(-163), reference=f"지출-{rank:03d}",
                         idempotency_key=f"demo-{programme.id}-{rank}", user=finance)
        _spend(s, ExpenseIn, award, treasurer, n_lines, amount, rng)
        if state == "paid":
            continue
        settlement = s.settlement_for(award, create=True)
        interest = rng.randint(300, 2_500)
        s.save_settlement(settlement, report_text=s.draft_report(award), interest_won=interest,
                          interest_file=_Upload(receipt_image("통장 거래내역", "예금이자", interest, day(-1),
                                                              "-"), "통장거래내역.jpg"), user=treasurer)
        if state == "draft":
            continue
        s.submit(settlement, user=treasurer)
        if state == "submitted":
            continue
        rows = s.expenses(award)
        for i, e in enumerate(rows):
            if state in {"needs_changes", "resubmitted"} and i == 1:
                s.review_line(e, decision="needs_fix", reason="품목이 보이는 영수증(거래명세서)을 올려 주세요", user=finance)
            elif i == 2 and state in {"approved", "closed"}:
                # the line the rules refuse: no attendance list for the snack (per_session_evidence)
                s.review_line(e, decision="not_recognised", reason="참석자 명단이 없어 간식 인원을 확인할 수 없습니다",
                              user=finance)
            else:
                s.review_line(e, decision="recognised", reason="", user=finance)
        if state in {"needs_changes", "resubmitted"}:
            s.return_for_changes(settlement, message="2번째 줄 영수증을 보완해 주세요.", user=finance)
        if state == "resubmitted":   # the group fixed the line and sent it again: finance sees the diff
            fixed = rows[1]
            data = ExpenseIn(spent_on=fixed.spent_on, category=fixed.category, vendor=fixed.vendor, biz_no=fixed.biz_no,
                             description=fixed.description + " — 거래명세서 첨부", amount_won=fixed.amount_won - 1_000,
                             method=fixed.method, approval_no=fixed.approval_no, participants=fixed.participants)
            s.save_expense(award, data, user=treasurer, expense=fixed,
                           receipt=_Upload(receipt_image(fixed.vendor, "거래명세서", fixed.amount_won - 1_000,
                                                         fixed.spent_on, fixed.biz_no), "statement.jpg"))
            s.submit(settlement, user=treasurer)
        if state in {"needs_changes", "resubmitted"}:
            continue
        s.approve(settlement, user=finance)
        if state == "closed" and settlement.status == "approved":
            s.record_refund(settlement, amount_won=settlement.refund_due_won, received_on=day(0),
                            depositor=s.expected_depositor(settlement), user=finance)


def day(offset: int) -> date:
    """A date ``offset`` days from the day the demo is built (Asia/Seoul)."""
    return today_kst() + timedelta(days=offset)


def at(offset: int, hour: int):
    return kst_datetime(*day(offset).timetuple()[:3], hour, 0)


def _spend(s, ExpenseIn, award, treasurer, n_lines, amount, rng):
    budget = int(amount * 0.92)
    per_line = max(budget // max(n_lines, 1), 5_000)
    start = award.programme.activity_start
    # Spread over the activity period so far: from its first day to yesterday (never the future).
    span = max((today_kst() - start).days - 1, 1)
    for i in range(n_lines):
        code, vendor, item, _ = SHOPS[i % len(SHOPS)]
        line_amount = min(per_line - rng.randint(0, 30) * 100, 100_000)
        if code == "snacks":
            line_amount = min(line_amount, 5_000 * 12)
        spent = start + timedelta(days=(i * span) // max(n_lines, 1) + 1)
        biz_no = BIZ_NOS[i % len(BIZ_NOS)]
        if i % 9 == 0 and i:
            s.save_session(award, held_on=spent, title=f"{spent.month}월 정기 모임", place=award.application.group.meeting_place,
                           content="보호자와 아이가 함께 놀이·체험", households=5, adults=6, children=8,
                           outcome="아이들이 서로 이름을 부르며 놀았습니다", user=treasurer)
        data = ExpenseIn(spent_on=spent, category=code, vendor=vendor, biz_no=biz_no, description=f"{item} ({i + 1})",
                         amount_won=line_amount, method="clean_card", approval_no=f"{rng.randint(10**7, 10**8 - 1)}",
                         participants=12, evidence_kind="card_slip")
        image = receipt_image(vendor, item, line_amount, spent, biz_no)
        try:
            s.save_expense(award, data, user=treasurer, receipt=_Upload(image, f"receipt-{i + 1}.jpg"))
        except s.ExpenseRejected:
            # a cap reached (간식비 25 %): the demo buys materials instead
            data.category, data.vendor, data.description = "materials", SHOPS[0][1], f"{SHOPS[0][2]} ({i + 1})"
            try:
                s.save_expense(award, data, user=treasurer, receipt=_Upload(image, f"receipt-{i + 1}.jpg"))
            except s.ExpenseRejected:
                continue
