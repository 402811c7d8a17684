"""One computation of an application's figures: the score matrix page, the ranking, the
minutes and the matrix behind them agree, with declined, draft and reopened reviews about."""
import pytest

from blueprints.review import documents, services
from extensions import db
from tests.review.conftest import spread


def _draft(item, total, reviewer):
    rubric = services.rubric(item.application.programme)
    check = services.check_for(item, spread(total, rubric), {c["code"]: "의견" for c in rubric}, final=False)
    services.save_scores(item, check, user=reviewer, submit=False)


def test_matrix_page_ranking_and_minutes_agree(scored, make_reviewers, staff):
    programme, (a, b, c), people = scored([[90, 50, 85], [70, 72, 74], [40]])
    drafter, decliner = make_reviewers(2, prefix="x")
    _draft(services.assign(a, drafter, user=staff), 60, drafter)               # a draft: pending, not counted
    services.decline(services.assign(a, decliner, user=staff), kind="unavailable", reason="출장", user=decliner)
    services.decline(services.assign(c, decliner, user=staff), kind="unavailable", reason="출장", user=decliner)
    services.reopen(services.assignment_of(b, people[2]), reason="점수 확인", user=staff)   # 74 back to a draft
    db.session.commit()

    expected = {a.id: dict(totals=(90, 50, 85), score=75, spread=40, disagree=True, pending=1),
                b.id: dict(totals=(70, 72), score=71, spread=2, disagree=False, pending=1),
                c.id: dict(totals=(40,), score=40, spread=None, disagree=False, pending=0)}
    page = {r.id: r for r in services.matrix_page(programme)["page"].items}
    ranked = {r["application"].id: r for r in services.ranking(programme)}
    minutes = {r["application_id"]: r for r in documents.minutes_data(programme)["rows"]}
    behind = {r["application"].id: r for r in services.matrix(programme)["rows"]}
    assert set(page) == set(ranked) == set(minutes) == set(behind) == set(expected)
    for app_id, want in expected.items():
        sd = services.stats([("submitted", t) for t in want["totals"]], services.settings_for(programme)).sd
        assert page[app_id].score == ranked[app_id]["item"].score == behind[app_id]["score"] == want["score"]
        assert minutes[app_id]["score"] == services.score_text(page[app_id].score)
        assert page[app_id].spread == want["spread"]
        assert page[app_id].sd == ranked[app_id]["sd"] == minutes[app_id]["sd"] == behind[app_id]["sd"]
        assert sd == page[app_id].sd and (sd is None) == (len(want["totals"]) < 2)
        assert (page[app_id].disagree == ranked[app_id]["disagree"] == minutes[app_id]["disagree"]
                == behind[app_id]["disagree"] == want["disagree"])
        assert page[app_id].pending == ranked[app_id]["pending"] == behind[app_id]["pending"] == want["pending"]
        assert ranked[app_id]["reviewers"] == len(minutes[app_id]["reviews"]) == len(want["totals"])
        assert sorted(behind[app_id]["totals"].values()) == sorted(want["totals"])


@pytest.mark.parametrize("reviews, method, score, spread_, count", [
    ([], "mean", None, None, 0),
    ([("declined", 0), ("assigned", 30)], "mean", None, None, 0),
    ([("submitted", 70), ("assigned", 10), ("declined", 0), ("submitted", 80)], "mean", 75, 10, 2),
    ([("submitted", t) for t in (10, 70, 80, 90, 100)], "trimmed_mean", 80, 90, 5),
])
def test_application_stats_counts_only_submitted_totals(reviews, method, score, spread_, count):
    from blueprints.review.scoring import application_stats

    st = application_stats(reviews, method=method, disagreement_points=20)
    assert (st.score, st.spread, st.count) == (score, spread_, count)
    assert st.pending == sum(1 for state, _ in reviews if state == "assigned")
    assert st.disagree == (spread_ is not None and spread_ > 20)
