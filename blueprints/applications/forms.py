"""Application forms. Numbers are read strictly (core.forms): '1,000' and full-width digits are
fine; '10만원', negatives and absurd sizes get a Korean message and the typed text stays."""
import uuid

from wtforms import BooleanField, FieldList, FormField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from blueprints.core.forms import MAX_LINE_WON, BaseForm, BaseSubForm, MoneyField, NumberField

MAX_QUANTITY = 10_000


class VersionedForm(BaseForm):
    version = HiddenField()
    editor = HiddenField()

    def stamp(self, application, editor: str | None = None):
        """Carry the version this form shows, and the id of this open form (kept across
        its own re-renders, new for a new page view)."""
        self.version.data = str(application.version)
        self.editor.data = editor or self.editor.data or uuid.uuid4().hex
        return self

    @property
    def based_on_version(self) -> int | None:
        return int(self.version.data) if (self.version.data or "").isdigit() else None


class StatementsForm(VersionedForm):
    purpose = TextAreaField("사업 목적", validators=[Optional(), Length(max=2000, message="2,000자 이하로 적어 주세요.")],
                            description="모임이 이 지원으로 이루려는 것을 적어 주세요.")
    need = TextAreaField("필요성", validators=[Optional(), Length(max=2000, message="2,000자 이하로 적어 주세요.")],
                         description="왜 이 활동이 우리 모임과 아이들에게 필요한지 적어 주세요.")


class DeclarationForm(VersionedForm):
    other_funding = RadioField("같은 활동으로 다른 공공기관의 지원을 받거나 신청했나요?",
                               choices=[("no", "아니요, 받지 않습니다"), ("yes", "예, 받거나 신청했습니다")],
                               validators=[Optional()])
    other_funding_detail = TextAreaField("받는 지원의 사업명·기관·금액", validators=[Optional(), Length(max=1000)])


class SessionForm(BaseSubForm):
    month = SelectField("월", choices=[])
    title = StringField("활동명", validators=[Optional(), Length(max=100, message="100자 이하")])
    content = TextAreaField("내용", validators=[Optional(), Length(max=1000, message="1,000자 이하")])
    place = StringField("장소", validators=[Optional(), Length(max=100, message="100자 이하")])
    expected_households = NumberField("예상 가구", blank=0, minimum=0, maximum=100)
    expected_children = NumberField("예상 아동", blank=0, minimum=0, maximum=200)


class PlanForm(VersionedForm):
    sessions = FieldList(FormField(SessionForm), min_entries=1, max_entries=60)


class LineForm(BaseSubForm):
    category = SelectField("비목", choices=[])
    item = StringField("품목", validators=[Optional(), Length(max=200, message="200자 이하")])
    unit_price_won = MoneyField("단가(원)", maximum=MAX_LINE_WON, show_zero=False)
    quantity = NumberField("수량", blank=0, minimum=0, maximum=MAX_QUANTITY)
    note = StringField("비고", validators=[Optional(), Length(max=300, message="300자 이하")])


class BudgetForm(VersionedForm):
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=60)


class AttachmentForm(BaseForm):
    label = StringField("파일 설명", validators=[Optional(), Length(max=100)], description="예: 회원 명부, 지난해 활동 사진")


class SubmitForm(BaseForm):
    confirm = BooleanField("입력한 내용이 사실이며, 지원금은 계획한 활동에만 쓰겠습니다.",
                           validators=[DataRequired("내용 확인에 동의해야 제출할 수 있습니다.")])


class StaffActionForm(BaseForm):
    message = TextAreaField("사유 또는 보완 요청 내용", validators=[DataRequired("사유를 적어 주세요."), Length(max=1000)])


class BulkActionForm(BaseForm):
    action = SelectField("일괄 처리", choices=[("return", "보완 요청"), ("ineligible", "부적격 처리")])
    message = TextAreaField("사유 또는 보완 요청 내용", validators=[DataRequired("사유를 적어 주세요."), Length(max=1000)])
