"""Forms for creating a programme and editing it section by section.

Money, numbers and percentages use core.forms' fields: typed as text, a mistake gives a
Korean message and the typed text stays in the box.
"""
from wtforms import (BooleanField, FieldList, FormField, HiddenField, SelectField, StringField, TextAreaField,
                     ValidationError)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from blueprints.core.forms import (BaseForm, BaseSubForm, KDateField, KSTDateTimeField, MoneyField,
                                   MultiCheckboxField, NumberField, PercentField)

from . import rules as R

REQUIRED = "필수 입력 항목입니다."


def _range(low, high=None):
    if high is None:
        return NumberRange(min=low, message=f"{low} 이상으로 입력해 주세요.")
    return NumberRange(min=low, max=high, message=f"{low}에서 {high} 사이로 입력해 주세요.")


class SectionForm(BaseForm):
    """A section of the programme editor (its repeated rows are FieldLists of RowForm)."""


class ReasonMixin:
    reason = TextAreaField("변경 사유", validators=[Optional(), Length(max=2000, message="2000자 이하로 적어 주세요.")],
                           description="신청 기간이 시작된 사업은 사유를 적어야 바꿀 수 있으며, 신청자에게 변경 공지로 보입니다.")


class RowForm(BaseSubForm):
    """Rows inside a FieldList: no CSRF of their own, whitespace stripped."""

    remove = BooleanField("이 행 삭제")

    def has_content(self) -> bool:
        """Whether the row holds anything (an existing row, or one typed into)."""
        return any(f.data not in (None, "") or (f.raw_data or [""])[0] for name, f in self._fields.items()
                   if name not in {"remove", "code"} and not isinstance(f, BooleanField))

    def is_blank(self) -> bool:
        return not any((f.raw_data or [""])[0] for name, f in self._fields.items()
                       if name not in {"remove", "code"} and not isinstance(f, BooleanField))


# Create --------------------------------------------------------------------------------------

class CreateProgrammeForm(BaseForm):
    source = SelectField("어디서 시작할까요?", validators=[DataRequired(REQUIRED)])
    year = NumberField("사업 연도", validators=[InputRequired(REQUIRED), _range(2020, 2100)])
    title = StringField("사업명", validators=[Optional(), Length(max=120, message="120자 이하로 입력해 주세요.")],
                        description="비워 두면 'OOOO년 공동육아 자조모임 지원사업'처럼 연도를 바꾸어 만듭니다.")


# Sections ----------------------------------------------------------------------------------

class BasicForm(ReasonMixin, SectionForm):
    title = StringField("사업명", validators=[DataRequired(REQUIRED), Length(max=120, message="120자 이하로 입력해 주세요.")])
    year = NumberField("사업 연도", validators=[InputRequired(REQUIRED), _range(2020, 2100)])
    operator = StringField("운영 기관", validators=[DataRequired(REQUIRED), Length(max=120, message="120자 이하로 입력해 주세요.")])
    budget_total_won = MoneyField("총 사업 예산", required=True, description="원 단위. 예: 200,000,000")


class ScheduleForm(ReasonMixin, SectionForm):
    opens_at = KSTDateTimeField("신청 시작 (한국 시간)", validators=[InputRequired(REQUIRED)])
    closes_at = KSTDateTimeField("신청 마감 (한국 시간)", validators=[InputRequired(REQUIRED)])
    review_from = KDateField("심사 시작일", validators=[Optional()])
    review_to = KDateField("심사 종료일", validators=[Optional()])
    activity_start = KDateField("활동 시작일", validators=[InputRequired(REQUIRED)])
    activity_end = KDateField("활동 종료일", validators=[InputRequired(REQUIRED)])
    settlement_due = KDateField("정산 마감일", validators=[InputRequired(REQUIRED)])


class TierForm(RowForm):
    min_households = NumberField("최소 가구 수", validators=[Optional(), _range(1, 100)])
    max_households = NumberField("최대 가구 수", validators=[Optional(), _range(1, 100)],
                                   description="비우면 '이상'")
    max_won = MoneyField("최대 지원액")


class AddonForm(RowForm):
    code = HiddenField()
    label = StringField("추가 지원 이름", validators=[Length(max=80, message="80자 이하로 입력해 주세요.")])
    amount_won = MoneyField("금액")
    requires_plan = BooleanField("별도 활동계획 필요")


class GrantForm(ReasonMixin, SectionForm):
    max_per_group_won = MoneyField("모임당 최대 지원액", required=True)
    min_per_group_won = MoneyField("모임당 최소 지원액", required=True)
    rounding_unit_won = MoneyField("지원액 절사 단위", required=True, description="예: 10,000 (만원 단위로 내림)")
    tiers = FieldList(FormField(TierForm), label="가구 수별 지원 한도", min_entries=1)
    addons = FieldList(FormField(AddonForm), label="추가 지원", min_entries=1)


class EligibilityForm(ReasonMixin, SectionForm):
    min_households = NumberField("최소 가구 수", validators=[InputRequired(REQUIRED), _range(1, 100)])
    max_households = NumberField("최대 가구 수", validators=[Optional(), _range(1, 100)], description="비우면 제한 없음")
    child_min_age = NumberField("자녀 나이 (만, 최소)", validators=[InputRequired(REQUIRED), _range(0, 18)])
    child_max_age = NumberField("자녀 나이 (만, 최대)", validators=[InputRequired(REQUIRED), _range(0, 18)])
    residency_scope = StringField("거주 지역", validators=[DataRequired(REQUIRED), Length(max=60, message="60자 이하로 입력해 주세요.")])
    min_resident_share = PercentField("거주 가구 최소 비율 (%)", required=True, description="예: 100 (모든 가구가 거주)")

    def validate_residency_scope(self, field):
        """Households are judged by 자치구: a name that is none would count every household as outside."""
        from blueprints.groups.eligibility import unknown_scope_parts

        unknown = unknown_scope_parts(field.data or "")
        if unknown:
            raise ValidationError(f"알 수 없는 지역입니다: {', '.join(unknown)}. '서울특별시' 또는 자치구 이름"
                                  "(예: 마포구, 서대문구)으로 적어 주세요.")
    min_meetings_per_month = NumberField("월 최소 모임 횟수", validators=[InputRequired(REQUIRED), _range(0, 31)])
    distinct_officers = BooleanField("대표와 회계는 다른 사람이어야 함")
    one_application = BooleanField("모임당 한 번만 신청 가능")
    no_duplicate_funding = BooleanField("같은 활동에 다른 공공 지원을 받으면 신청 불가")
    excluded_purposes = TextAreaField("지원하지 않는 목적 (한 줄에 하나)")


class CategoryForm(RowForm):
    code = HiddenField()
    label = StringField("항목 이름", validators=[Length(max=60, message="60자 이하로 입력해 주세요.")])
    allowed = BooleanField("사용 가능")
    share_of_total_max = PercentField("총액 대비 상한 (%)")
    warn_above_share = PercentField("경고 기준 (%)")
    per_hour_won = MoneyField("시간당 상한 (원)")
    per_day_won = MoneyField("하루 상한 (원)")
    per_participant_per_session_won = MoneyField("1인 1회 상한 (원)")
    evidence_extra = StringField("추가 증빙 (쉼표로 구분)", validators=[Length(max=300, message="300자 이하로 입력해 주세요.")])


class CategoriesForm(ReasonMixin, SectionForm):
    categories = FieldList(FormField(CategoryForm), label="집행 항목", min_entries=1)


class ProhibitedItemForm(RowForm):
    label = StringField("금지 항목", validators=[Length(max=120, message="120자 이하로 입력해 주세요.")])
    keywords = TextAreaField("찾을 낱말 (쉼표로 구분)", validators=[Length(max=1000, message="1000자 이하로 입력해 주세요.")])


class ProhibitedForm(ReasonMixin, SectionForm):
    items = FieldList(FormField(ProhibitedItemForm), label="금지 항목과 찾을 낱말", min_entries=1)


class PaymentForm(ReasonMixin, SectionForm):
    accepted_methods = MultiCheckboxField("인정하는 결제 수단", choices=list(R.PAYMENT_METHODS.items()))
    cash_allowed = BooleanField("현금 결제 인정")
    simple_receipt_accepted = BooleanField("간이영수증 인정")
    itemised_required = BooleanField("품목이 적힌 영수증 또는 거래명세서 필수")
    separate_account_required = BooleanField("보조금 전용 계좌(카드) 필수")
    receipt_required_above_won = MoneyField("영수증이 필요한 금액 (이 금액 초과)", required=True, description="0이면 모든 지출에 영수증이 필요합니다.")
    per_session_evidence = TextAreaField("활동마다 내는 증빙 (한 줄에 하나)")


class CriterionForm(RowForm):
    code = HiddenField()
    label = StringField("심사 항목", validators=[Length(max=80, message="80자 이하로 입력해 주세요.")])
    max = NumberField("배점", validators=[Optional(), _range(1, 100)])


class ReviewForm(ReasonMixin, SectionForm):
    reviewers_per_application = NumberField("신청서당 심사위원 수", validators=[InputRequired(REQUIRED), _range(1, 10)])
    pass_mark = NumberField("합격 점수", validators=[InputRequired(REQUIRED), _range(0, 1000)])
    rubric = FieldList(FormField(CriterionForm), label="심사 항목과 배점", min_entries=1)
    tie_break = FieldList(SelectField("동점 처리", validate_choice=False), min_entries=4, max_entries=4)
