"""The committee's minutes (심사 결과): ranking, scores per criterion, reviewers (names may be
hidden), the decision and every adjustment with its reason — as PDF and XLSX."""
from sqlalchemy import select

from blueprints.core.exports import INT, NUMBER, WON, Cell, Column, Sheet
from blueprints.core.pdf import render_pdf
from blueprints.core.timeutil import now_utc
from extensions import db

from . import queries
from .models import AssignmentState, ScenarioState, SelectionScenario


def _decision_scenario(programme):
    published = db.session.scalar(select(SelectionScenario).where(
        SelectionScenario.programme_id == programme.id, SelectionScenario.status == ScenarioState.published))
    if published is not None:
        return published
    return db.session.scalar(select(SelectionScenario).where(SelectionScenario.programme_id == programme.id)
                             .order_by(SelectionScenario.id.desc()).limit(1))


def minutes_data(programme, *, hide_names: bool = True) -> dict:
    settings = queries.settings_for(programme)
    rub = queries.rubric(programme)
    ranked = queries.ranking(programme)
    data = queries.matrix(programme)
    reviewer_label = {u.id: (f"심사위원 {chr(ord('A') + i)}" if hide_names else u.name)
                      for i, u in enumerate(data["reviewers"])}
    cells_by_app = {row["application"].id: row["cells"] for row in data["rows"]}
    scenario = _decision_scenario(programme)
    entries = {e.application_id: e for e in scenario.entries} if scenario else {}
    rows = []
    for r in ranked:
        application, item = r["application"], r["item"]
        cells = cells_by_app.get(application.id, {})
        reviews = []
        for reviewer_id, assignment in sorted(cells.items()):
            if assignment.status != AssignmentState.submitted:
                continue
            reviews.append(dict(reviewer=reviewer_label.get(reviewer_id, "-"), total=assignment.total,
                                scores={s.criterion: s.score for s in assignment.scores}))
        entry = entries.get(application.id)
        rows.append(dict(rank=item.rank, application_id=application.id, group=application.group.name,
                         district=application.group.district, score=queries.score_text(item.score),
                         passes=item.passes, decided_by=r["decided_by_label"], requested=application.requested_won,
                         criteria={c["code"]: (float(item.criterion_means[c["code"]]) if c["code"] in item.criterion_means
                                               else None) for c in rub},
                         sd=r["sd"], disagree=r["disagree"], reviews=reviews,
                         selected=entry.selected if entry else None, amount=entry.amount_won if entry and entry.selected else 0,
                         proposed=entry.proposed_won if entry else None,
                         adjusted=entry.adjusted if entry else False, reason=entry.reason if entry else "",
                         note=entry.note if entry else ""))
    used = sum(r["amount"] for r in rows if r["selected"])
    return dict(programme=programme, settings=settings, rubric=rub, rows=rows, scenario=scenario,
                reviewers=[reviewer_label[u.id] for u in data["reviewers"]], hide_names=hide_names,
                pass_mark=queries.pass_mark(programme), used=used, left=programme.budget_total_won - used,
                tie_break=[queries.tie_break_label(c, rub) for c in queries.tie_break(programme)],
                generated_at=now_utc())


def minutes_pdf(data: dict) -> bytes:
    return render_pdf("pdf/review_minutes.html", **data)


def minutes_sheets(data: dict) -> list[Sheet]:
    """The minutes as a workbook: the ranking, each reviewer's scores, a summary."""
    rub = data["rubric"]
    criteria = [Column(c["label"], NUMBER) for c in rub]
    ranking = [
        [r["rank"], r["application_id"], r["group"], r["district"], float(r["score"]) if r["score"] else None,
         *[round(r["criteria"][c["code"]], 2) if r["criteria"][c["code"]] is not None else None for c in rub],
         round(r["sd"], 2) if r["sd"] is not None else None, "예" if r["disagree"] else "",
         "예" if r["passes"] else "아니오", r["decided_by"], r["requested"], r["proposed"],
         "" if r["selected"] is None else ("선정" if r["selected"] else "미선정"), r["amount"],
         "예" if r["adjusted"] else "", r["reason"], r["note"]]
        for r in data["rows"]]
    scores = [[r["application_id"], r["group"], review["reviewer"], *[review["scores"].get(c["code"]) for c in rub],
               review["total"]] for r in data["rows"] for review in r["reviews"]]
    programme = data["programme"]
    summary = [["공모사업", programme.title], ["예산(원)", Cell(programme.budget_total_won, WON)],
               ["선정액 합계(원)", Cell(data["used"], WON)], ["잔액(원)", Cell(data["left"], WON)],
               ["합격 점수", data["pass_mark"]], ["동점 처리 순서", " > ".join(data["tie_break"])],
               ["생성", data["generated_at"]]]
    return [
        Sheet("순위", [Column("순위", INT), Column("신청번호", INT), Column("모임"), Column("자치구"),
                       Column("평균점수", NUMBER), *criteria, Column("표준편차", NUMBER), Column("편차 경고"),
                       Column("합격"), Column("동점 처리"), Column("요청액(원)", WON), Column("제안액(원)", WON),
                       Column("선정"), Column("교부결정액(원)", WON), Column("조정"), Column("조정 사유"), Column("비고")],
              ranking),
        Sheet("심사위원별 점수", [Column("신청번호", INT), Column("모임"), Column("심사위원"), *criteria,
                               Column("총점", NUMBER)], scores),
        Sheet("요약", [Column("항목"), Column("값")], summary, header=False),
    ]
