from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from blueprints.core.auth import ROLE_LABELS
from blueprints.core.forms import BaseForm, MultiCheckboxField, mobile_number, password_strength

REQUIRED = "필수 입력 항목입니다."
EMAIL_MSG = "이메일 주소 형식이 올바르지 않습니다. 예: parent@example.kr"


class LoginForm(BaseForm):
    email = EmailField("이메일", validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField("비밀번호", validators=[DataRequired(REQUIRED), Length(max=128)])
    next = HiddenField()


class ProfileFields(BaseForm):
    name = StringField("이름", validators=[DataRequired(REQUIRED), Length(max=50, message="50자 이하로 입력해 주세요.")])
    phone = StringField("휴대전화번호", validators=[DataRequired(REQUIRED), mobile_number],
                        description="예: 010-1234-5678")
    password = PasswordField("비밀번호", validators=[DataRequired(REQUIRED), password_strength],
                             description="8자 이상, 영문·숫자·특수문자 중 두 가지 이상")
    password_confirm = PasswordField("비밀번호 확인", validators=[
        DataRequired(REQUIRED), EqualTo("password", message="비밀번호가 서로 다릅니다.")])
    consent_privacy = BooleanField("개인정보 수집·이용에 동의합니다. (필수)",
                                   validators=[DataRequired("개인정보 수집·이용에 동의해야 가입할 수 있습니다.")])


class SignupForm(ProfileFields):
    email = EmailField("이메일", validators=[DataRequired(REQUIRED), Email(EMAIL_MSG), Length(max=254)])


class AcceptInviteForm(ProfileFields):
    """The invited parent's account. The group's number for the household is not shown in the
    field (an invitation to a mistyped address would show it to a stranger): left empty, it
    stays; typed, the typed one replaces it."""

    def __init__(self, *args, number_on_file: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if number_on_file:
            self.phone.validators = [Optional(), mobile_number]
            self.phone.flags.required = False


class VerifyEmailForm(BaseForm):
    """Proving the address takes the link and the account's password (unless already signed in)."""
    password = PasswordField("가입할 때 정한 비밀번호", validators=[Optional(), Length(max=128)])


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("현재 비밀번호", validators=[DataRequired(REQUIRED)])
    password = PasswordField("새 비밀번호", validators=[DataRequired(REQUIRED), password_strength],
                             description="8자 이상, 영문·숫자·특수문자 중 두 가지 이상")
    password_confirm = PasswordField("새 비밀번호 확인", validators=[
        DataRequired(REQUIRED), EqualTo("password", message="비밀번호가 서로 다릅니다.")])


class ForgotPasswordForm(BaseForm):
    email = EmailField("가입한 이메일", validators=[DataRequired(REQUIRED), Email(EMAIL_MSG), Length(max=254)])


class ResetPasswordForm(BaseForm):
    password = PasswordField("새 비밀번호", validators=[DataRequired(REQUIRED), password_strength],
                             description="8자 이상, 영문·숫자·특수문자 중 두 가지 이상")
    password_confirm = PasswordField("새 비밀번호 확인", validators=[
        DataRequired(REQUIRED), EqualTo("password", message="비밀번호가 서로 다릅니다.")])


ROLE_CHOICES = list(ROLE_LABELS.items())


class InviteForm(BaseForm):
    email = EmailField("이메일", validators=[DataRequired(REQUIRED), Email(EMAIL_MSG), Length(max=254)])
    name = StringField("이름", validators=[DataRequired(REQUIRED), Length(max=50)])
    roles = MultiCheckboxField("역할", choices=ROLE_CHOICES, validators=[DataRequired("역할을 하나 이상 선택해 주세요.")])


class UserSearchForm(BaseForm):
    class Meta:
        csrf = False

    q = SearchField("이름 또는 이메일", validators=[Optional(), Length(max=100)])
    role = SelectField("역할", choices=[("", "전체")] + ROLE_CHOICES, validators=[Optional()])


class RoleChangeForm(BaseForm):
    role = SelectField("역할", choices=ROLE_CHOICES, validators=[DataRequired()])


# Second factor ------------------------------------------------------------------------------

class SecondFactorCodeForm(BaseForm):
    code = StringField("인증 코드", validators=[DataRequired("인증 코드를 입력해 주세요."), Length(max=32)],
                       description="인증 앱에 보이는 6자리 숫자")


class SecondFactorLoginForm(BaseForm):
    code = StringField("인증 코드 또는 복구 코드", validators=[DataRequired("인증 코드를 입력해 주세요."), Length(max=32)],
                       description="인증 앱에 보이는 6자리 숫자. 휴대전화를 잃어버렸다면 복구 코드(예: abcde-fghjk)")
