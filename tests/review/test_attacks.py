"""Attacks on review and selection found by an adversarial pass: a conflict of interest that
appears after the assignment, comments typed decomposed, an application returned while in
review and sent again."""
import unicodedata

import pytest
from sqlalchemy import select

from blueprints.applications import services as app_services
from blueprints.applications.models import ApplicationState
from blueprints.review import services
from blueprints.review.models import AssignmentState, ReviewAssignment
from extensions import db
from tests.review.conftest import spread


def _form(programme, total, comment="의견", action="save"):
    data = {f"score-{k}": v for k, v in spread(total, services.rubric(programme)).items()}
    data.update({f"comment-{c['code']}": comment for c in services.rubric(programme)})
    data["action"] = action
    return data


def test_comments_typed_decomposed_are_stored_composed(client, auth, submitted, make_reviewers, staff):
    programme, (application,) = submitted(1)
    (reviewer,) = make_reviewers(1)
    item = services.assign(application, reviewer, user=staff)
    db.session.commit()
    auth.login(reviewer.email)
    decomposed = unicodedata.normalize("NFD", "활동 계획이 구체적입니다")
    assert decomposed != "활동 계획이 구체적입니다"
    response = client.post_form(f"/review/assignment/{item.id}", _form(programme, 80, comment=decomposed))
    assert response.status_code == 303
    db.session.expire_all()
    comments = {s.comment for s in db.session.get(ReviewAssignment, item.id).scores}
    assert comments == {"활동 계획이 구체적입니다"}
