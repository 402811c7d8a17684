"""Award acceptance (교부 신청) and payment forms."""
import re

from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from blueprints.core.forms import MAX_LINE_WON, BaseForm, KDateField, MoneyField

from .models import BANKS


class AcceptForm(BaseForm):
    bank = SelectField("은행", choices=[("", "선택")] + [(b, b) for b in BANKS],
                       validators=[DataRequired("은행을 선택해 주세요.")])
    account_number = StringField("보조금 전용 계좌번호", validators=[DataRequired("계좌번호를 입력해 주세요."), Length(max=30)],
                                 description="숫자만 또는 - 포함. 화면에는 끝 4자리만 보입니다.",
                                 render_kw={"inputmode": "numeric", "autocomplete": "off"})
    account_holder = StringField("예금주", validators=[DataRequired("예금주를 입력해 주세요."), Length(max=60)],
                                 description="모임 이름 또는 대표자 이름")
    confirm = BooleanField("교부 조건을 읽었고 지키겠습니다. 보조금은 별도 계좌로 관리하고 계획한 활동에만 씁니다.",
                           validators=[DataRequired("교부 조건에 동의해야 교부 신청을 할 수 있습니다.")])


class PaymentForm(BaseForm):
    instalment = SelectField("회차", choices=[], validate_choice=False)
    amount_won = MoneyField("지급액(원)", validators=[InputRequired("지급액을 입력해 주세요.")], maximum=MAX_LINE_WON,
                            show_zero=False)
    paid_on = KDateField("지급일", validators=[DataRequired("지급일을 입력해 주세요.")])
    reference = StringField("지출결의·이체 참조번호", validators=[Optional(), Length(max=100)])
    idempotency_key = HiddenField()   # made by the server: disbursement.services.new_payment_key

    def validate_instalment(self, field):
        # The choices depend on the disbursement (the view fills them for the page); a posted
        # value must at least be a 회차 number, for the service to check against the schedule.
        if not re.fullmatch(r"[0-9]{1,3}", field.data or ""):
            raise ValidationError("교부 계획의 회차를 골라 주세요.")
