"""Review forms. Scores are read from the rubric by scoring.check_scores (the rubric is data,
so it is not a fixed form); everything else is a WTForms form with Korean messages."""
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from blueprints.applications.models import ApplicationState
from blueprints.core.forms import BaseForm, KSTDateTimeField, MoneyField, NumberField
from data.districts import SEOUL_DISTRICTS

from .conflicts import DECLARATION_KINDS
from .models import DECLINE_KINDS
from .scoring import AGGREGATES, COMMENT_RULES

REQUIRED = "필수 입력 항목입니다."


class SettingsForm(BaseForm):
    blind = BooleanField("블라인드 심사(심사위원에게 모임 이름·대표자·연락처를 가림)")
    comment_rule = SelectField("의견 작성 규칙", choices=list(COMMENT_RULES.items()))
    comment_below_pct = NumberField("의견 필수 기준(배점 대비 %)", validators=[InputRequired(REQUIRED),
                             NumberRange(0, 100, "0에서 100 사이로 입력해 주세요.")],
                             description="이 비율 미만의 점수에는 의견을 적어야 합니다(‘기준 미만’ 규칙일 때).")
    aggregate = SelectField("점수 집계 방식", choices=list(AGGREGATES.items()))
    disagreement_points = NumberField("심사위원 간 편차 경고(총점 차이, 점)", validators=[InputRequired(REQUIRED),
                               NumberRange(0, 100, "0에서 100 사이로 입력해 주세요.")])
    calibration_points = NumberField("심사위원 경향 경고(신청서별 중앙값과의 평균 차이, 점)", validators=[InputRequired(REQUIRED),
                              NumberRange(0, 100, "0에서 100 사이로 입력해 주세요.")])
    same_dong_rule = BooleanField("같은 동에 사는 심사위원은 배정하지 않음")
    deadline = KSTDateTimeField("심사 기한", validators=[Optional()])
    remind_days_before = NumberField("기한 안내 메일(기한 며칠 전부터)", validators=[InputRequired(REQUIRED),
                              NumberRange(0, 30, "0에서 30 사이로 입력해 주세요.")])


class ProfileForm(BaseForm):
    district = StringField("자치구", validators=[Optional(), Length(max=20)])
    dong = StringField("동", validators=[Optional(), Length(max=30)])


class AssignForm(BaseForm):
    reviewer_id = SelectField("심사위원", coerce=int, validate_choice=False)


class ConflictForm(BaseForm):
    reviewer_id = SelectField("심사위원", coerce=int, validate_choice=False)
    kind = SelectField("구분", choices=list(DECLARATION_KINDS.items()))
    reason = TextAreaField("사유", validators=[InputRequired("사유를 적어 주세요."), Length(max=1000)])


class DeclineForm(BaseForm):
    kind = RadioField("거절 사유", choices=list(DECLINE_KINDS.items()), validators=[InputRequired("거절 사유를 골라 주세요.")])
    conflict_kind = SelectField("이해충돌 구분", choices=list(DECLARATION_KINDS.items()), default="recusal")
    reason = TextAreaField("구체적인 사유", validators=[InputRequired("사유를 적어 주세요."), Length(max=1000)])


class ReasonForm(BaseForm):
    reason = TextAreaField("사유", validators=[InputRequired("사유를 적어 주세요."), Length(max=1000)])


class ScenarioForm(BaseForm):
    name = StringField("시나리오 이름", validators=[InputRequired("시나리오 이름을 적어 주세요."), Length(max=80)])
    quota_per_district = NumberField("자치구별 최대 선정 수(비우면 제한 없음)", validators=[Optional(),
                              NumberRange(1, 1000, "1 이상으로 입력해 주세요.")])


class AdjustForm(BaseForm):
    selected = BooleanField("선정")
    amount_won = MoneyField("교부 금액")
    reason = TextAreaField("조정 사유", validators=[Optional(), Length(max=1000)])


class PublishForm(BaseForm):
    conditions = TextAreaField("선정 조건(선정 모임에 안내)", validators=[Optional(), Length(max=2000)],
                               default="교부결정 통지일로부터 7일 이내에 수락해 주세요. 보조금 전용 카드로만 집행합니다.")
    share_feedback = BooleanField("미선정 모임에 심사 의견 공개(심사위원 이름 없이)")
    confirm = BooleanField("결과를 공개하면 되돌릴 수 없음을 확인했습니다", validators=[InputRequired("확인란에 표시해 주세요.")])


MATRIX_FILTERS = {"pending": "미제출 심사 있음", "complete": "모든 심사 제출", "disagree": "위원 간 편차 큼",
                  ApplicationState.selected: ApplicationState.selected.title,
                  ApplicationState.not_selected: ApplicationState.not_selected.title}
MATRIX_SORTS = {"id": "신청번호순", "score_desc": "평균 높은 순", "score_asc": "평균 낮은 순",
                "spread": "최고·최저 차이 큰 순", "sd": "표준편차 큰 순", "pending": "미제출 많은 순",
                "district": "자치구순"}


class MatrixFilterForm(BaseForm):
    """The score matrix's filters and sort (a GET form: no CSRF). The reviewer choices are the
    programme's reviewers, set by the view."""

    class Meta:
        csrf = False

    district = SelectField("자치구", choices=[("", "전체")] + [(d, d) for d in SEOUL_DISTRICTS], validators=[Optional()])
    reviewer = SelectField("심사위원", choices=[("", "전체")], validators=[Optional()], validate_choice=False)
    status = SelectField("상태", choices=[("", "전체")] + list(MATRIX_FILTERS.items()), validators=[Optional()])
    min_spread = NumberField("최고·최저 차이(점 이상)", validators=[Optional(), NumberRange(0, 1000, "0 이상의 점수로 입력해 주세요.")])
    sort = SelectField("정렬", choices=list(MATRIX_SORTS.items()), validators=[Optional()])
