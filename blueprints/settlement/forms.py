"""Spending and settlement forms. Money, counts and dates are core.forms' fields (Korean
messages, the typed text kept)."""

from flask_wtf.file import FileField, MultipleFileField
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from blueprints.core.forms import MAX_LINE_WON, BaseForm, KDateField, MoneyField, NumberField
from blueprints.core.timeutil import today_kst

from .checks import EVIDENCE_LABELS, METHOD_LABELS, biz_no_problem
from .models import AttachmentKind, ExpenseReviewState, SettlementState


def on_the_list(field, message: str) -> None:
    """A posted choice must be one the form offered (the view fills the award's categories and
    sessions): another award's session, an unknown id or a 300-character value is a message next
    to the field, never a row pointing elsewhere or a database error. Empty stays for the rules
    (checks.py) to name."""
    if field.data in (None, ""):
        return
    if str(field.data) not in {str(value) for value, _label in field.choices}:
        raise ValidationError(message)


class ExpenseForm(BaseForm):
    spent_on = KDateField("사용일", validators=[DataRequired("사용일을 입력해 주세요.")])
    category = SelectField("비목", choices=[], validate_choice=False)
    vendor = StringField("사용처(가맹점·받는 사람)", validators=[DataRequired("사용처를 입력해 주세요."), Length(max=100)])
    # Digits on a phone's number pad (inputmode); never the browser's autofill of other forms.
    biz_no = StringField("사업자등록번호", validators=[Optional(), Length(max=14)], description="영수증에 있으면 적어 주세요. 예: 124-82-10324",
                         render_kw={"inputmode": "numeric", "autocomplete": "off", "pattern": r"[0-9 \-]*"})
    description = StringField("내용·품목", validators=[DataRequired("내용을 입력해 주세요."), Length(max=300)])
    amount_won = MoneyField("금액(원)", validators=[InputRequired("금액을 입력해 주세요.")], maximum=MAX_LINE_WON,
                            show_zero=False)
    method = SelectField("결제수단", choices=[("", "선택")] + list(METHOD_LABELS.items()), validate_choice=False)
    approval_no = StringField("카드 승인번호·이체 참조", validators=[Optional(), Length(max=40)],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})
    cash_reason = StringField("현금 결제 사유(예외 때만)", validators=[Optional(), Length(max=300)])
    evidence_kind = SelectField("증빙 종류", choices=list(EVIDENCE_LABELS.items()), validate_choice=False)
    participants = NumberField("참석 인원", blank=0, minimum=0, maximum=500)
    hours = NumberField("강의 시간(강사비)", blank=0, minimum=0, maximum=24)
    session_id = SelectField("활동 회차", choices=[], validate_choice=False)
    receipt = FileField("영수증 (사진 또는 PDF)")
    attachment_kind = SelectField("올리는 파일의 종류", choices=AttachmentKind.choices(), validate_choice=False)
    attachments = MultipleFileField("다른 증빙 (도서목록, 거래명세서, 참석자 명단 …)")

    def validate_biz_no(self, field):
        problem = biz_no_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_category(self, field):
        on_the_list(field, "이 사업의 비목 목록에서 골라 주세요.")

    def validate_method(self, field):
        on_the_list(field, "결제수단 목록에서 골라 주세요.")

    def validate_evidence_kind(self, field):
        on_the_list(field, "증빙 종류 목록에서 골라 주세요.")

    def validate_session_id(self, field):
        on_the_list(field, "이 사업의 활동 회차 목록에서 골라 주세요.")


class SessionForm(BaseForm):
    held_on = KDateField("활동일", validators=[DataRequired("활동일을 입력해 주세요.")])
    title = StringField("활동명", validators=[DataRequired("활동명을 입력해 주세요."), Length(max=100)])
    place = StringField("장소", validators=[Optional(), Length(max=100)])
    content = TextAreaField("한 일", validators=[Optional(), Length(max=2000)])
    households = NumberField("참석 가구", blank=0, minimum=0, maximum=100)
    adults = NumberField("참석 성인", blank=0, minimum=0, maximum=300)
    children = NumberField("참석 영유아", blank=0, minimum=0, maximum=300)
    outcome = TextAreaField("성과·느낀 점", validators=[Optional(), Length(max=2000)])
    photos = MultipleFileField("활동 사진")


class SettlementForm(BaseForm):
    report_text = TextAreaField("사업실적(결과보고)", validators=[Optional(), Length(max=10000)])
    interest_won = MoneyField("통장 발생이자(원)", maximum=MAX_LINE_WON, description="보조금 통장에 붙은 이자. 없으면 0")
    interest_file = FileField("이자 증빙(통장 거래내역)")
    # The draft the page showed: the report saved unchanged stays a draft that follows the numbers.
    report_draft = HiddenField(validators=[Optional(), Length(max=10000)])


class ReviewLineForm(BaseForm):
    decision = RadioField("검토 결과", choices=ExpenseReviewState.choices(ExpenseReviewState.recognised,
                          ExpenseReviewState.not_recognised, ExpenseReviewState.needs_fix),
                          validators=[DataRequired("검토 결과를 고르세요.")])
    reason = StringField("사유", validators=[Optional(), Length(max=500)])


class ReturnForm(BaseForm):
    message = TextAreaField("보완 요청 내용", validators=[Optional(), Length(max=2000)])


class RefundForm(BaseForm):
    amount_won = MoneyField("반환액(원)", validators=[InputRequired("반환액을 입력해 주세요.")], maximum=MAX_LINE_WON,
                            show_zero=False)
    received_on = KDateField("입금 확인일", validators=[DataRequired("입금일을 입력해 주세요.")], default=today_kst)
    depositor = StringField("입금자명", validators=[DataRequired("입금자명을 입력해 주세요."), Length(max=120)])
    note = StringField("비고", validators=[Optional(), Length(max=300)])


class ExportForm(BaseForm):
    kind = HiddenField(default="zip")


class SettlementListFilter(BaseForm):
    """Finance's list of a programme's settlements: by state (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField("정산 상태", choices=[("", "전체"), ("none", "미작성")] + SettlementState.choices()
                         + [("rereview", "보완 후 다시 제출(고친 줄 재검토)")], validators=[Optional()])
